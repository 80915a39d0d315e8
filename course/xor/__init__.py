"""The 2-3-1 network of "Postmortem of artificial neural networks", trained on XOR."""

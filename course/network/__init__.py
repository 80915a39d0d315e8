"""The linear-softmax-cross-entropy classifier of "Dismantling neural networks"."""

"""Mean squared error and cross-entropy, with their gradients."""

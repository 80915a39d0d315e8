"""The linear layer z = x @ W.T + b and its backward pass."""

"""ReLU, sigmoid and softmax, with their derivatives (softmax's Jacobian)."""

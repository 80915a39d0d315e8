"""The 2-3-1 network of "Postmortem of artificial neural networks", trained on XOR.

Linear(2, 3) -> sigmoid -> Linear(3, 1) -> sigmoid -> mean squared error, with
plain full-batch gradient descent. `params` is a dict: W1 (3, 2), b1 (3,),
W2 (1, 3), b2 (1,); weights laid out as torch.nn.Linear's.
"""

import numpy as np
from activations import sigmoid, sigmoid_prime
from linear import linear, linear_backward
from losses import mse, mse_prime

#: The four XOR inputs (4, 2) and their targets (4, 1).
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])

#: The initial weights printed in the article. forward([[0, 0]]) gives 0.41126.
SEED_PARAMS = {
    "W1": np.array([[-0.3122, 0.5551], [-0.2819, -0.0666], [0.6712, -0.2915]]),
    "b1": np.array([0.2816, -0.4757, -0.4125]),
    "W2": np.array([[-0.5761, -0.2721, 0.4413]]),
    "b2": np.array([-0.1019]),
}


def forward(X, params):
    """Predictions y_hat = sigmoid(linear(sigmoid(linear(X, W1, b1)), W2, b2)), shape (m, 1)."""
    raise NotImplementedError("forward: not implemented yet")


def gradients(X, y, params):
    """d mse(forward(X, params), y) / d param for every param: a dict with the same keys.

    Backward through the chain, reusing the forward's intermediate values:
      dL/dz2 = mse'(y_hat, y) * sigmoid'(z2)
      dL/dW2, dL/db2, dL/da1 from linear_backward(a1, W2, b2, dL/dz2)
      dL/dz1 = dL/da1 * sigmoid'(z1)
      dL/dW1, dL/db1 from linear_backward(X, W1, b1, dL/dz1)
    """
    raise NotImplementedError("gradients: not implemented yet")


def sgd_step(params, grads, lr):
    """One plain SGD step: a new dict {key: params[key] - lr * grads[key]}; inputs unchanged."""
    raise NotImplementedError("sgd_step: not implemented yet")


def train(X, y, params, lr, epochs):
    """Full-batch SGD for `epochs` steps; returns (final params, losses).

    losses[k] is the loss *before* step k, so losses[0] is the loss of the
    initial params and len(losses) == epochs.
    """
    raise NotImplementedError("train: not implemented yet")

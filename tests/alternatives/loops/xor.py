"""The XOR network with a loop over the parameters and over the epochs."""

import numpy as np
from activations import sigmoid, sigmoid_prime
from linear import linear, linear_backward
from losses import mse, mse_prime

KEYS = ("W1", "b1", "W2", "b2")


def forward(X, params):
    hidden = sigmoid(linear(X, params["W1"], params["b1"]))
    return sigmoid(linear(hidden, params["W2"], params["b2"]))


def gradients(X, y, params):
    z1 = linear(X, params["W1"], params["b1"])
    a1 = sigmoid(z1)
    z2 = linear(a1, params["W2"], params["b2"])
    grad_z2 = mse_prime(sigmoid(z2), y) * sigmoid_prime(z2)
    grad_a1, grad_W2, grad_b2 = linear_backward(a1, params["W2"], params["b2"], grad_z2)
    grad_z1 = grad_a1 * sigmoid_prime(z1)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], params["b1"], grad_z1)
    return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


def sgd_step(params, grads, lr):
    new = {}
    for key in KEYS:
        value = params[key].copy()
        for index in np.ndindex(value.shape):
            value[index] -= lr * grads[key][index]
        new[key] = value
    return new


def train(X, y, params, lr, epochs):
    losses = []
    for _ in range(epochs):
        losses.append(mse(forward(X, params), y))
        params = sgd_step(params, gradients(X, y, params), lr)
    return params, losses

"""The XOR network, its backward pass reusing the activations a (1 - a)."""

import numpy as np
from activations import sigmoid
from linear import linear, linear_backward
from losses import mse, mse_prime


def forward(X, params):
    return sigmoid(linear(sigmoid(linear(X, params["W1"], params["b1"])), params["W2"], params["b2"]))


def gradients(X, y, params):
    a1 = sigmoid(linear(X, params["W1"], params["b1"]))
    a2 = sigmoid(linear(a1, params["W2"], params["b2"]))
    grad_z2 = mse_prime(a2, y) * a2 * (1 - a2)
    grad_a1, grad_W2, grad_b2 = linear_backward(a1, params["W2"], params["b2"], grad_z2)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], params["b1"], grad_a1 * a1 * (1 - a1))
    return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


def sgd_step(params, grads, lr):
    return {key: np.subtract(params[key], lr * grads[key]) for key in params}


def train(X, y, params, lr, epochs):
    history = []
    for _ in range(epochs):
        history.append(mse(forward(X, params), y))
        params = sgd_step(params, gradients(X, y, params), lr)
    return params, np.asarray(history)

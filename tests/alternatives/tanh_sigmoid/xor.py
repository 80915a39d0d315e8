"""The XOR network; the tanh-based sigmoid and sigmoid' from activations."""

import numpy as np
from activations import sigmoid, sigmoid_prime
from linear import linear, linear_backward
from losses import mse, mse_prime


def forward(X, params):
    return sigmoid(linear(sigmoid(linear(X, params["W1"], params["b1"])), params["W2"], params["b2"]))


def gradients(X, y, params):
    z1 = linear(X, params["W1"], params["b1"])
    z2 = linear(sigmoid(z1), params["W2"], params["b2"])
    delta2 = mse_prime(sigmoid(z2), y) * sigmoid_prime(z2)
    back, grad_W2, grad_b2 = linear_backward(sigmoid(z1), params["W2"], params["b2"], delta2)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], params["b1"], back * sigmoid_prime(z1))
    return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


def sgd_step(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in ("W1", "b1", "W2", "b2")}


def train(X, y, params, lr, epochs):
    losses = np.empty(epochs)
    for epoch in range(epochs):
        losses[epoch] = mse(forward(X, params), y)
        params = sgd_step(params, gradients(X, y, params), lr)
    return params, losses

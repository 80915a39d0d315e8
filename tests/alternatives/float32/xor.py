"""The XOR network in the parameters' dtype."""

import numpy as np
from activations import sigmoid, sigmoid_prime
from linear import linear, linear_backward
from losses import mse, mse_prime


def forward(X, params):
    X = X.astype(params["W1"].dtype)
    return sigmoid(linear(sigmoid(linear(X, params["W1"], params["b1"])), params["W2"], params["b2"]))


def gradients(X, y, params):
    dtype = params["W1"].dtype
    X, y = X.astype(dtype), y.astype(dtype)
    z1 = linear(X, params["W1"], params["b1"])
    a1 = sigmoid(z1)
    z2 = linear(a1, params["W2"], params["b2"])
    grad_z2 = mse_prime(sigmoid(z2), y) * sigmoid_prime(z2)
    grad_a1, grad_W2, grad_b2 = linear_backward(a1, params["W2"], params["b2"], grad_z2)
    _, grad_W1, grad_b1 = linear_backward(X, params["W1"], params["b1"], grad_a1 * sigmoid_prime(z1))
    return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


def sgd_step(params, grads, lr):
    return {k: (v - v.dtype.type(lr) * grads[k].astype(v.dtype)) for k, v in params.items()}


def train(X, y, params, lr, epochs):
    losses = np.empty(epochs, dtype=params["W1"].dtype)
    for epoch in range(epochs):
        losses[epoch] = mse(forward(X, params), y.astype(params["W1"].dtype))
        params = sgd_step(params, gradients(X, y, params), lr)
    return params, losses

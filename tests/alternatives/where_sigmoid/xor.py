"""The XOR network with the forward pass kept in a cache for the backward one."""

import numpy as np
from activations import sigmoid, sigmoid_prime
from linear import linear, linear_backward
from losses import mse, mse_prime


def _forward(X, params):
    cache = {"z1": linear(X, params["W1"], params["b1"])}
    cache["a1"] = sigmoid(cache["z1"])
    cache["z2"] = linear(cache["a1"], params["W2"], params["b2"])
    cache["a2"] = sigmoid(cache["z2"])
    return cache


def forward(X, params):
    return _forward(X, params)["a2"]


def gradients(X, y, params):
    c = _forward(X, params)
    delta2 = mse_prime(c["a2"], y) * sigmoid_prime(c["z2"])
    back, gW2, gb2 = linear_backward(c["a1"], params["W2"], params["b2"], delta2)
    _, gW1, gb1 = linear_backward(X, params["W1"], params["b1"], back * sigmoid_prime(c["z1"]))
    return {"W1": gW1, "b1": gb1, "W2": gW2, "b2": gb2}


def sgd_step(params, grads, lr):
    return {key: np.copy(params[key]) - lr * grads[key] for key in params}


def train(X, y, params, lr, epochs):
    losses = []
    for _ in range(epochs):
        losses.append(mse(forward(X, params), y))
        params = sgd_step(params, gradients(X, y, params), lr)
    return params, np.array(losses)

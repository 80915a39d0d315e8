"""Typical mistakes in xor.py, planted in the reference for the examples and the kit's tests."""

from autograder.mistakes import Planted

OUTPUT_LAYER = "grad_z2 = mse_prime(sigmoid(z2), y) * sigmoid_prime(z2)"
HIDDEN_LAYER = "grad_z1 = grad_a1 * sigmoid_prime(z1)"

PLANTED = {
    "forward without the output sigmoid": Planted(
        "xor.forward",
        (('return sigmoid(linear(hidden, params["W2"], params["b2"]))',
          'return linear(hidden, params["W2"], params["b2"])'),), "output sigmoid is missing"),
    "backprop skips the hidden sigmoid'": Planted(
        "xor.gradients", ((HIDDEN_LAYER, "grad_z1 = grad_a1"),), "sigma' is missing"),
    "sigma' applied twice": Planted(
        "xor.gradients",
        ((OUTPUT_LAYER, f"{OUTPUT_LAYER} * sigmoid_prime(z2)"),
         (HIDDEN_LAYER, f"{HIDDEN_LAYER} * sigmoid_prime(z1)")),
        "applied twice"),
    "sigma' on the activation": Planted(
        "xor.gradients", ((HIDDEN_LAYER, "grad_z1 = grad_a1 * sigmoid_prime(a1)"),),
        "applied to the activation"),
    "sgd_step updates in place": Planted(
        "xor.sgd_step",
        (("return {key: params[key] - lr * grads[key] for key in params}",
          "for key in params:\n        params[key] -= lr * grads[key]\n    return params"),),
        "modified in place"),
    "loss recorded after the step": Planted(
        "xor.train",
        (("        losses.append(float(mse(forward(X, params), y)))\n"
          "        params = sgd_step(params, gradients(X, y, params), lr)",
          "        params = sgd_step(params, gradients(X, y, params), lr)\n"
          "        losses.append(float(mse(forward(X, params), y)))"),), "after each step"),
}

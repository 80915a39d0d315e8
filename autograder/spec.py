"""The contract of SPEC.md section 1: exercise modules, their functions and parameters.

Everything that needs to know which functions exist (intake, the sandbox, the
hidden cases, reports, exports) reads it from here.
"""

MODULES: dict[str, dict[str, tuple[str, ...]]] = {
    "linear": {
        "linear": ("x", "W", "b"),
        "linear_backward": ("x", "W", "b", "grad_z"),
    },
    "activations": {
        "relu": ("z",),
        "relu_prime": ("z",),
        "sigmoid": ("z",),
        "sigmoid_prime": ("z",),
        "softmax": ("z",),
        "softmax_prime": ("z",),
    },
    "losses": {
        "mse": ("y_hat", "y"),
        "mse_prime": ("y_hat", "y"),
        "cross_entropy": ("p", "y"),
        "cross_entropy_prime": ("p", "y"),
        "softmax_cross_entropy_prime": ("z", "y"),
    },
    "network": {
        "classifier_loss": ("x", "y", "W", "b"),
        "classifier_gradients": ("x", "y", "W", "b"),
    },
    "xor": {
        "forward": ("X", "params"),
        "gradients": ("X", "y", "params"),
        "sgd_step": ("params", "grads", "lr"),
        "train": ("X", "y", "params", "lr", "epochs"),
    },
}

#: Ready-made names the xor stub provides (not graded).
XOR_CONSTANTS = ("XOR_X", "XOR_Y", "SEED_PARAMS")

#: Every graded function as "module.function", in SPEC order.
FUNCTIONS: tuple[str, ...] = tuple(f"{m}.{f}" for m, fs in MODULES.items() for f in fs)


def module_of(tag: str) -> str:
    """Module part of a "module.function" tag."""
    return tag.split(".", 1)[0]

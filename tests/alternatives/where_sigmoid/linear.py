"""Linear layer with W.T @ on the right and a bias row added by broadcasting."""


def linear(x, W, b):
    z = x @ W.T
    z += b
    return z


def linear_backward(x, W, b, grad_z):
    grad_b = grad_z.sum(axis=0)
    return grad_z @ W, (x.T @ grad_z).T, grad_b

"""The torch reference of linear.py: F.linear and its vector-Jacobian products."""

import torch.nn.functional as F

from autograder.autograd import array, grad, tensor


def linear(x, W, b):
    return array(F.linear(tensor(x), tensor(W), tensor(b)))


def linear_backward(x, W, b, grad_z):
    return tuple(grad(lambda x_, W_, b_: (F.linear(x_, W_, b_) * tensor(grad_z)).sum(), x, W, b))

"""The torch reference of network.py: F.cross_entropy(F.linear(...)) and its gradients."""

import torch.nn.functional as F

from autograder.autograd import grad, labels, tensor


def classifier_loss(x, y, W, b):
    return float(F.cross_entropy(F.linear(tensor(x), tensor(W), tensor(b)), labels(y)))


def classifier_gradients(x, y, W, b):
    _, grad_W, grad_b = grad(lambda x_, W_, b_: F.cross_entropy(F.linear(x_, W_, b_), labels(y)), x, W, b)
    return grad_W, grad_b

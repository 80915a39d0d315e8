"""The two articles' data and worked numbers, shared by the public and hidden cases.

The stub xor.py carries the same XOR data and initial weights for students (SPEC 1);
tests/test_foundation.py checks that both agree. Torch-free: the public cases use it.
"""

import numpy as np

from autograder.config import Tolerance

#: Comparing with numbers worked by hand, and with the articles' numbers (printed with 4 decimals).
EXACT = Tolerance(rtol=1e-9, atol=1e-12)
ARTICLE = Tolerance(rtol=0.0, atol=1e-4)

#: The XOR inputs (4, 2) and targets (4, 1) of "Postmortem of artificial neural networks".
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])

#: The initial weights printed in the article (torch.nn.Linear layout).
SEED_PARAMS = {
    "W1": np.array([[-0.3122, 0.5551], [-0.2819, -0.0666], [0.6712, -0.2915]]),
    "b1": np.array([0.2816, -0.4757, -0.4125]),
    "W2": np.array([[-0.5761, -0.2721, 0.4413]]),
    "b2": np.array([-0.1019]),
}
#: forward([[0, 0]]) with SEED_PARAMS, and its squared error against 0 (the article: 0.4112, 0.1691).
Y_HAT_00 = 0.41126139
LOSS_00 = 0.16913592775674519

#: The article's worked example: the network on the input [0, 0], whose target is 0.
XOR_00 = (np.array([[0.0, 0.0]]), np.array([[0.0]]))

# The gradients of the squared error d mse(forward(X, SEED_PARAMS), y) / d param, by torch:
# course/xor/oracle.py `gradients` (loss.backward() on the torch module, float64), rounded to
# 12 decimals. Stored as numbers so that neither torch nor a backprop ships to students;
# tests/test_check.py works them again from the oracle. At [0, 0] every dW1 is 0 (dW1 = dz1.T @ X):
# the four XOR inputs check W1.
XOR_GRADIENTS_00 = {
    "W1": np.zeros((3, 2)),
    "b1": np.array([-0.028121911473, -0.012809022266, 0.021062860767]),
    "W2": np.array([[0.11350535129, 0.076329245626, 0.079325473143]]),
    "b2": np.array([0.199153703312]),
}
XOR_GRADIENTS = {  # over the four XOR inputs and targets
    "W1": np.array([[0.003028723789, 0.001982991847], [0.001120945099, 0.001663405348],
                    [-0.001828994976, -0.001489062075]]),
    "b1": np.array([0.00482915812, 0.002516802012, -0.003665539856]),
    "W2": np.array([[-0.024143245907, -0.014017920123, -0.017901345067]]),
    "b2": np.array([-0.040598240787]),
}
#: The loss over the XOR inputs after one step of SGD with lr = 0.5 from SEED_PARAMS (torch's
#: SGD: course/xor/oracle.py `train`); before it, the loss is SOLVE_LOSSES[0].
LOSS_AFTER_ONE_STEP = 0.255657895101

#: The logits and labels of the cross-entropy example in "Dismantling neural networks".
ARTICLE_Z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])
ARTICLE_Y = np.array([2, 0])
#: Its cross-entropy. The article prints 1.285 because it rounds every step to two decimals.
ARTICLE_CROSS_ENTROPY = 1.2841106
#: softmax(ARTICLE_Z), the probabilities the cross-entropy is taken of.
ARTICLE_P = np.array([[0.28943311, 0.39069383, 0.31987306], [0.23969767, 0.43675182, 0.32355051]])
#: The classifier of the example with W = I and b = 0 (its logits are then ARTICLE_Z): its
#: gradients (dL/dW, dL/db) by torch (course/network/oracle.py `classifier_gradients`, autograd in
#: float64), rounded to 12 decimals; tests/test_check.py works them again.
CLASSIFIER_GRAD_W = np.array([[-0.099574172599, -0.284250862279, -0.199148345199],
                              [0.0850474642, 0.274677084264, 0.1700949284],
                              [0.014526708399, 0.009573778015, 0.029053416799]])
CLASSIFIER_GRAD_B = np.array([-0.2354362052, 0.41372282509, -0.17828661989])

#: Training the XOR network from SEED_PARAMS with lr = 10 for 200 epochs (torch's SGD, float64):
#: the loss at a few epochs and the trained weights. It solves XOR: its predictions on XOR_X
#: round to XOR_Y. tests/test_foundation.py checks these numbers against torch.
SOLVE = {"lr": 10.0, "epochs": 200}
SOLVE_LOSSES = {0: 0.25699697, 49: 0.24604789, 99: 0.14152499, 199: 0.00355694}
SOLVE_PARAMS = {
    "W1": np.array([[-5.15340925, 3.0986906], [-2.4291511, -3.76559823], [5.05769843, -6.09617214]]),
    "b1": np.array([-1.15588377, 0.39364894, -2.77668445]),
    "W2": np.array([[6.51794112, -3.89299397, 6.85497359]]),
    "b2": np.array([-2.84597853]),
}

"""The two articles' data and worked numbers, shared by the public and hidden cases.

The stub xor.py carries the same XOR data and initial weights for students (SPEC 1);
tests/test_foundation.py checks that both agree.
"""

import numpy as np

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

#: The logits and labels of the cross-entropy example in "Dismantling neural networks".
ARTICLE_Z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])
ARTICLE_Y = np.array([2, 0])
#: Its cross-entropy. The article prints 1.285 because it rounds every step to two decimals.
ARTICLE_CROSS_ENTROPY = 1.2841106

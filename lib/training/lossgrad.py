"""What a loss does to the logits: per-sample gradients by central
differences, through the softmax and the Keras loss itself (any backend).

Used to show that KL divergence and cross-entropy on the same soft targets
differ in value (by the targets' entropy, a constant) but not in gradient:
both give softmax(z) - t.
"""

from __future__ import annotations

import numpy as np
from keras import ops


def per_sample_loss(loss, y_true, logits) -> np.ndarray:
    """``loss(y_true, softmax(logits))`` per sample; ``loss`` is a Keras loss
    built with ``reduction=None``."""
    return np.asarray(ops.convert_to_numpy(loss(y_true, ops.softmax(logits, axis=-1))),
                      np.float64)


def logit_gradient(loss, y_true, logits, eps: float = 1e-2) -> np.ndarray:
    """d loss_i / d logits_i, shape (B, K), all B*K perturbations in one call."""
    y_true = np.asarray(y_true, np.float32)
    logits = np.asarray(logits, np.float32)
    b, k = logits.shape
    step = eps * np.eye(k, dtype=np.float32)
    targets = np.repeat(y_true[:, None, :], k, axis=1).reshape(b * k, k)

    def at(z):
        return per_sample_loss(loss, targets, z.reshape(b * k, k)).reshape(b, k)

    return (at(logits[:, None, :] + step) - at(logits[:, None, :] - step)) / (2 * eps)


def entropy(t) -> np.ndarray:
    """Entropy of each target row, in nats (0 log 0 = 0)."""
    from scipy.stats import entropy as scipy_entropy

    return scipy_entropy(np.asarray(t, np.float64), axis=-1)

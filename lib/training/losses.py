"""Losses of the natural-vs-artificial article, in ``keras.ops`` (any backend).

Every loss takes one-hot (or soft) ``y_true`` (B, 10) and softmax ``y_pred``
(B, 10) and returns per-sample values (B,), so Keras can weight and reduce
them. Classes 2..7 (bird, cat, deer, dog, frog, horse) are "natural".
"""

from __future__ import annotations

from itertools import combinations

import keras
from keras import ops

NATURAL = slice(2, 8)
EPS = 1e-7  # Keras's backend epsilon: the clip categorical_crossentropy applies
#: the 45 contiguous class ranges [i..j], i < j, of the multiple-softmax loss
RANGES = tuple(combinations(range(10), 2))


def _xent(t, p):
    """Cross-entropy of targets ``t`` against probabilities ``p`` (last axis),
    clipped as Keras clips."""
    return -ops.sum(t * ops.log(ops.clip(p, EPS, 1.0 - EPS)), axis=-1)


def _binary_term(t_in, p_in):
    """Two-way cross-entropy on [P(in), 1 - P(in)]."""
    t = ops.stack([t_in, 1.0 - t_in], axis=-1)
    p = ops.stack([p_in, 1.0 - p_in], axis=-1)
    return _xent(t, p)


@keras.saving.register_keras_serializable(package="ablation")
def natural_softmax_loss(y_true, y_pred):
    """10-class cross-entropy + cross-entropy on [P(natural), P(artificial)],
    P(natural) summed from the softmax over classes 2..7."""
    y_true = ops.cast(y_true, y_pred.dtype)
    category = _binary_term(ops.sum(y_true[:, NATURAL], axis=-1),
                            ops.sum(y_pred[:, NATURAL], axis=-1))
    return _xent(y_true, y_pred) + category


@keras.saving.register_keras_serializable(package="ablation")
def natural_hardmax_loss(y_true, y_pred):
    """As :func:`natural_softmax_loss` but the predicted category comes from
    the argmax class (0 or 1), so the category term adds a value (about 16.1
    when wrong, ~0 when right) and no gradient."""
    y_true = ops.cast(y_true, y_pred.dtype)
    label = ops.argmax(y_pred, axis=-1)
    is_natural = ops.cast((label >= 2) & (label <= 7), y_pred.dtype)
    category = _binary_term(ops.sum(y_true[:, NATURAL], axis=-1), ops.stop_gradient(is_natural))
    return _xent(y_true, y_pred) + category


@keras.saving.register_keras_serializable(package="ablation")
def multi_range_softmax_loss(y_true, y_pred):
    """Cross-entropy + for each of the 45 ranges [i..j], i < j, a two-way
    cross-entropy on [P(range), 1 - P(range)] (the intended version of the
    article's multiple-softmax loss)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    loss = _xent(y_true, y_pred)
    # cumulative sums give every range sum at once: S[j+1] - S[i]
    zeros = ops.zeros_like(y_true[:, :1])
    ct = ops.concatenate([zeros, ops.cumsum(y_true, axis=-1)], axis=-1)
    cp = ops.concatenate([zeros, ops.cumsum(y_pred, axis=-1)], axis=-1)
    i = [a for a, _ in RANGES]
    j = [b + 1 for _, b in RANGES]
    t_in = ops.take(ct, j, axis=1) - ops.take(ct, i, axis=1)     # (B, 45)
    p_in = ops.take(cp, j, axis=1) - ops.take(cp, i, axis=1)
    return loss + ops.sum(_binary_term(t_in, p_in), axis=-1)


@keras.saving.register_keras_serializable(package="ablation")
def article_multi_softmax_loss(y_true, y_pred):
    """The article's code, literally: Keras's categorical_crossentropy applied
    to a single-column probability per range (plus epsilon). Keras first
    divides ``y_pred`` by its sum over the last axis, which for one column is
    1, so every range term is -t*log(1 - eps) ~ 1e-7*t and passes no
    gradient: the loss is plain cross-entropy."""
    y_true = ops.cast(y_true, y_pred.dtype)
    loss = keras.losses.categorical_crossentropy(y_true, y_pred)
    for a, b in RANGES:
        p = ops.expand_dims(ops.sum(y_pred[:, a:b + 1], axis=-1), -1) + EPS
        t = ops.expand_dims(ops.sum(y_true[:, a:b + 1], axis=-1), -1) + EPS
        loss = loss + keras.losses.categorical_crossentropy(t, p)
    return loss


LOSSES = {
    "natural_softmax": natural_softmax_loss,
    "natural_hardmax": natural_hardmax_loss,
    "multi_range_softmax": multi_range_softmax_loss,
    "article_multi_softmax": article_multi_softmax_loss,
}

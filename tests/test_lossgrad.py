"""lib.lossgrad: KL vs cross-entropy values and gradients through Keras's losses."""

import math

import keras
import numpy as np
import pytest

from lib.training import lossgrad
from lib.training.augment import one_hot


def test_kl_and_cross_entropy_differ_by_the_target_entropy_but_share_their_gradient():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=2.0, size=(6, 10)).astype("float32")
    t = one_hot(rng.integers(0, 10, 6)) * 0.8 + 0.02            # 0.2-smoothed targets
    kl = keras.losses.KLDivergence(reduction=None)
    ce = keras.losses.CategoricalCrossentropy(reduction=None)
    v_kl = lossgrad.per_sample_loss(kl, t, logits)
    v_ce = lossgrad.per_sample_loss(ce, t, logits)
    h = lossgrad.entropy(t)
    assert h.min() > 0.5                                       # a real offset, not a rounding
    np.testing.assert_allclose(v_ce - v_kl, h, atol=1e-4)
    g_kl = lossgrad.logit_gradient(kl, t, logits)
    g_ce = lossgrad.logit_gradient(ce, t, logits)
    expected = np.asarray(keras.ops.softmax(logits)) - t         # the textbook gradient
    np.testing.assert_allclose(g_ce, expected, atol=2e-3)
    np.testing.assert_allclose(g_kl, g_ce, atol=2e-3)
    # and the check can tell losses apart: squared error has another gradient
    g_mse = lossgrad.logit_gradient(keras.losses.MeanSquaredError(reduction=None), t, logits)
    assert np.abs(g_mse - g_ce).max() > 0.05


def test_entropy_of_one_hot_is_zero_and_of_uniform_is_log_k():
    np.testing.assert_allclose(lossgrad.entropy(np.eye(10)[:2]), 0.0)
    assert lossgrad.entropy(np.full((1, 10), 0.1))[0] == pytest.approx(math.log(10))

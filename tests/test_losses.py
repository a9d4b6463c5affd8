import numpy as np
import pytest
import keras
from keras import ops

from lib.training import losses

Y_TRUE = np.eye(10, dtype=np.float32)[[2, 0, 9, 7]]          # bird, airplane, truck, horse
Y_PRED = np.array([
    [0.05, 0.05, 0.50, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],   # right, natural
    [0.10, 0.10, 0.40, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.10],   # wrong: argmax natural
    [0.02, 0.03, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.60],   # right, artificial
    [0.30, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05, 0.10, 0.10, 0.15],   # wrong: argmax artificial
], np.float32)
EPS = 1e-7


def np_xent(t, p):
    return -(t * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1)


def np_two_way(t, p):
    return np_xent(np.stack([t, 1 - t], -1), np.stack([p, 1 - p], -1))


def value(fn, yt=Y_TRUE, yp=Y_PRED):
    return np.asarray(ops.convert_to_numpy(fn(ops.convert_to_tensor(yt), ops.convert_to_tensor(yp))))


def grad_wrt_pred(fn, yt=Y_TRUE, yp=Y_PRED):
    """d sum(loss) / d y_pred, by central differences (backend-neutral)."""
    g = np.zeros_like(yp, dtype=np.float64)
    h = 1e-3
    for idx in np.ndindex(yp.shape):
        up, dn = yp.astype(np.float64).copy(), yp.astype(np.float64).copy()
        up[idx] += h
        dn[idx] -= h
        g[idx] = (value(fn, yt, up.astype(np.float32)).sum() - value(fn, yt, dn.astype(np.float32)).sum()) / (2 * h)
    return g


def test_natural_softmax_matches_hand_computation():
    nat_t = Y_TRUE[:, 2:8].sum(1)
    nat_p = Y_PRED[:, 2:8].sum(1)
    expected = np_xent(Y_TRUE, Y_PRED) + np_two_way(nat_t, nat_p)
    np.testing.assert_allclose(value(losses.natural_softmax_loss), expected, rtol=1e-5)
    assert value(losses.natural_softmax_loss).shape == (4,)


def test_natural_hardmax_adds_value_from_argmax_but_no_gradient():
    hard = np.array([1.0, 1.0, 0.0, 0.0])                   # argmax classes 2, 2, 9, 0
    expected = np_xent(Y_TRUE, Y_PRED) + np_two_way(Y_TRUE[:, 2:8].sum(1), hard)
    got = value(losses.natural_hardmax_loss)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # wrong category costs -log(eps) ~ 16.1, right ~ 0
    assert got[1] - np_xent(Y_TRUE, Y_PRED)[1] == pytest.approx(-np.log(EPS), rel=1e-3)
    # gradient equals plain cross-entropy's: the category term passes none
    ce = lambda t, p: -ops.sum(t * ops.log(ops.clip(p, EPS, 1 - EPS)), axis=-1)
    np.testing.assert_allclose(grad_wrt_pred(losses.natural_hardmax_loss), grad_wrt_pred(ce),
                               atol=2e-2)


def test_natural_softmax_category_term_passes_gradient():
    ce = lambda t, p: -ops.sum(t * ops.log(ops.clip(p, EPS, 1 - EPS)), axis=-1)
    diff = grad_wrt_pred(losses.natural_softmax_loss) - grad_wrt_pred(ce)
    # the extra gradient is the same for every natural class of a row (d/dP(natural))
    assert np.abs(diff).max() > 0.5
    np.testing.assert_allclose(diff[:, 2:8], diff[:, 2:3].repeat(6, 1), rtol=1e-2, atol=1e-2)


def test_multi_range_softmax_matches_hand_computation():
    expected = np_xent(Y_TRUE, Y_PRED)
    assert len(losses.RANGES) == 45
    for i, j in losses.RANGES:
        expected = expected + np_two_way(Y_TRUE[:, i:j + 1].sum(1), Y_PRED[:, i:j + 1].sum(1))
    np.testing.assert_allclose(value(losses.multi_range_softmax_loss), expected, rtol=1e-4)


def test_articles_multi_softmax_term_is_zero_and_passes_no_gradient():
    """What the article's code computes: Keras normalises a one-column y_pred to 1,
    so each of the 45 range terms is -t*log(1-eps) ~ 0: the loss is plain CE."""
    ce = np.asarray(ops.convert_to_numpy(keras.losses.categorical_crossentropy(Y_TRUE, Y_PRED)))
    got = value(losses.article_multi_softmax_loss)
    np.testing.assert_allclose(got, ce, atol=1e-4)
    one_col = keras.losses.categorical_crossentropy(np.array([[0.7]], np.float32),
                                                    np.array([[0.2]], np.float32))
    assert float(ops.convert_to_numpy(one_col)[0]) == pytest.approx(0.0, abs=1e-5)
    ce_fn = lambda t, p: keras.losses.categorical_crossentropy(t, p)
    np.testing.assert_allclose(grad_wrt_pred(losses.article_multi_softmax_loss),
                               grad_wrt_pred(ce_fn), atol=1e-2)


def test_custom_loss_checkpoints_reload(tiny_spec, tiny_data, tmp_path):
    """A run with a custom loss resumes from its checkpoint (the loss is registered)."""
    from lib.training import train

    spec = {**tiny_spec, "loss": {"name": "natural_softmax"}, "epochs": 2}

    class Stop(Exception):
        pass

    def stop(epoch):
        raise Stop

    with pytest.raises(Stop):
        train.fit(spec, tmp_path / "run", data=tiny_data, jit_compile=False, log=lambda s: None,
                  after_epoch=stop)
    m = train.fit(spec, tmp_path / "run", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert m["epochs"] == 2

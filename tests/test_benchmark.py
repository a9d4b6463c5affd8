"""make bench: the article's generator, FLOP counts, and the report."""

import json

import keras
import numpy as np
import pytest

from lib.measure import benchmark
from lib.training import models
from lib.training.augment import one_hot


def test_article_generator_mixes_two_classes_with_folded_ratio(tiny_data):
    x, y = tiny_data[:2]
    gen = benchmark.article_bc_generator(x, one_hot(y), batch_size=32, step_size=16,
                                          rng=np.random.RandomState(0))
    xb, yb = next(gen)
    assert xb.shape == (32, 32, 32, 3) and xb.dtype == np.float32 and xb.max() <= 1.0
    top2 = np.sort(yb, axis=1)[:, -2:]
    r, other = top2[:, 1], top2[:, 0]
    assert (r >= 0.5).all() and np.allclose(r + other, 1.0, atol=1e-6)
    assert ((yb > 0).sum(axis=1) == 2).all()                     # always two classes
    # each mixed image is r * anchor + (1 - r) * partner, anchors in group order
    perm = np.random.RandomState(0).permutation(len(x))
    anchors = x[perm[:16]].astype(np.float64) / 255.0
    k = 3
    a_cls = y[perm[k]]
    assert yb[k, a_cls] == pytest.approx(r[k], abs=1e-6)
    partner = (xb[k] - r[k] * anchors[k]) / (1 - r[k])        # recovered from the mix
    gap = np.abs(anchors - partner).reshape(16, -1).max(axis=1)
    j = int(np.argmin(gap))
    assert gap[j] < 1e-3                                       # it is an image of the group
    assert y[perm[j]] != a_cls and yb[k, y[perm[j]]] == pytest.approx(1 - r[k], abs=1e-6)


def test_flops_per_image_matches_a_hand_count():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same")(inp)             # 2*9*3*4*64 = 13,824
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(6, 1)(h)                               # 2*1*4*6*16 = 768
    out = keras.layers.Dense(10)(keras.layers.Flatten()(h))       # 2*96*10 = 1,920
    f = models.flops_per_image(keras.Model(inp, out))
    assert f == {"forward": 13_824 + 768 + 1_920, "train": 3 * (13_824 + 768 + 1_920)}
    # the article's cnn10: 0.53 GFLOP per image forward (the convolutions at 32x32 dominate)
    assert models.flops_per_image(models.build("cnn10"))["forward"] == 532_026_368


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="XLA cost analysis through JAX")
def test_flop_count_agrees_with_xla_cost_analysis():
    import jax

    m = models.build("cnn10", width=8)
    x = np.zeros((1, 32, 32, 3), np.float32)
    fn = jax.jit(lambda tv, ntv, x: m.stateless_call(tv, ntv, x, training=False)[0])
    cost = fn.lower([v.value for v in m.trainable_variables],
                    [v.value for v in m.non_trainable_variables], x).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    ours = models.flops_per_image(m)["forward"]
    # XLA leaves out the taps that fall on the zero padding of "same"
    # convolutions (about 7 % at 32x32 ... 8x8) and adds BN, ReLU and pooling
    assert cost["flops"] < ours
    assert ours == pytest.approx(cost["flops"], rel=0.10)


@pytest.mark.backend_free   # the harness's bookkeeping; the timed steps are the backend's
def test_measure_reports_every_item_and_ratio(tiny_data, tmp_path):
    x, y = tiny_data[:2]
    res = benchmark.measure(width=2, batch_size=16, batches=2, repeats=1, data=(x, y),
                             log=lambda s: None)
    assert set(res["images_per_second"]) == {"pipeline", "article_generator", "train_step",
                                             "ours_end_to_end", "article_end_to_end",
                                             "train_step_no_xla", "ours_end_to_end_no_xla",
                                             "pipeline_parallel"}
    assert all(v > 0 for v in res["images_per_second"].values())
    ips = res["images_per_second"]
    assert res["ratios"]["pipeline_over_train_step"] == pytest.approx(
        ips["pipeline"] / ips["train_step"])
    md = benchmark.to_markdown(res)
    assert "(a)/(b)" in md and "MFLOP" in md and "float32 matmul peak" in md
    # a step's FLOP/s cannot exceed what a large matmul reaches on the same cores
    assert 0 < res["achieved_train_gflops_per_second"] < res["matmul_peak_gflops_per_second"]
    json.dumps(res)   # serializable as written by make bench
    with pytest.raises(ValueError, match="need"):
        benchmark.measure(width=2, batch_size=16, batches=50, repeats=1, data=(x, y))

"""training_tricks: label smoothing, KL vs CE, RandomErasing, schedules, latency."""

import math

import keras
import numpy as np
import pytest

from lib import bench, data as data_lib, lossgrad, params, runs, train
from lib.augment import keras_augmentation, one_hot
from lib.experiments import training_tricks as exp
from lib.pipeline import MixingBatches

QUIET = dict(jit_compile=False, log=lambda s: None)


# ------------------------------------------------------------------ soft targets and losses
def test_target_smoothing_in_the_data_matches_keras_label_smoothing(tiny_data):
    x, y = tiny_data[:2]
    plain = MixingBatches(x, y, batch_size=16, seed=3)
    smooth = MixingBatches(x, y, batch_size=16, seed=3, target_smoothing=0.2)
    xa, ya, _ = plain.batch(0)
    xb, yb, _ = smooth.batch(0)
    np.testing.assert_array_equal(xa, xb)                       # images untouched
    np.testing.assert_allclose(yb, ya * 0.8 + 0.02, atol=1e-7)  # y (1 - a) + a / K
    np.testing.assert_allclose(yb.sum(axis=1), 1.0, atol=1e-6)
    # Keras's own label_smoothing on one-hot targets == plain CE on our smoothed ones
    p = keras.ops.softmax(np.random.default_rng(0).normal(size=(16, 10)).astype("float32"))
    ce_ls = keras.losses.CategoricalCrossentropy(label_smoothing=0.2)(ya, p)
    ce = keras.losses.CategoricalCrossentropy()(yb, p)
    assert float(ce_ls) == pytest.approx(float(ce), rel=1e-5)
    with pytest.raises(ValueError, match="target_smoothing"):
        MixingBatches(x, y, batch_size=16, target_smoothing=1.0)


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


# ------------------------------------------------------------------ RandomErasing
@pytest.mark.parametrize("p, low, high", [(1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (0.5, 0.35, 0.65)])
def test_random_erasing_erases_with_the_fixed_probability_and_only_in_training(p, low, high):
    keras.utils.set_random_seed(0)
    layer = keras_augmentation(erasing={"probability": p, "scale": [0.1, 0.3],
                                        "value_range": [0.0, 1.0]})
    x = np.full((200, 32, 32, 3), 0.5, np.float32)   # any erased pixel leaves 0.5
    out = np.asarray(layer(x, training=True))
    changed = (np.abs(out - x) > 1e-6).reshape(len(x), -1).any(axis=1).mean()
    assert low <= changed <= high
    if p == 1.0:   # boxes cover part of the image, not all of it
        frac = (np.abs(out - x) > 1e-6).reshape(len(x), -1).mean(axis=1)
        assert 0.0 < frac.min() and frac.max() < 0.5
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


def test_random_erasing_rejects_bad_options():
    with pytest.raises(ValueError, match="probability"):
        keras_augmentation(erasing={"probability": 1.5})
    with pytest.raises(ValueError, match="unknown erasing"):
        keras_augmentation(erasing={"probability": 0.5, "ratio": 2})


# ------------------------------------------------------------------ validation split
def test_validation_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(10), 30)
    x = np.arange(len(y))   # image i is just its index
    xr, yr, xv, yv = data_lib.split_validation(x, y, 50, seed=0)
    assert len(xv) == 50 and len(xr) == 250
    assert np.bincount(yv, minlength=10).tolist() == [5] * 10
    assert set(xv).isdisjoint(xr) and set(xv) | set(xr) == set(x)
    with pytest.raises(ValueError, match="validation size"):
        data_lib.split_validation(x, y, 5)


# ------------------------------------------------------------------ schedules in training
def _plateau_spec(tiny_spec, epochs=5):
    s = dict(tiny_spec, epochs=epochs, mixing={"name": "none"}, loss={"name": "categorical_crossentropy"})
    # min_delta huge: no epoch after the first counts as an improvement, so the
    # rate halves after every epoch from the second on
    s["lr_schedule"] = {"name": "plateau", "monitor": "val_loss", "factor": 0.5, "patience": 1,
                        "min_delta": 100.0}
    return s


def test_plateau_schedule_watches_validation_and_survives_resume(tiny_spec, tiny_data):
    spec = _plateau_spec(tiny_spec)
    val = tiny_data[2:]   # test images double as a validation set here
    data = (*tiny_data, *val)
    base = spec["optimizer"]["learning_rate"]
    expected = [base, base, base / 2, base / 4, base / 8]

    whole = runs.ensure(spec, "smoke", data=data, **QUIET)["history"]
    np.testing.assert_allclose(whole["lr"], expected, rtol=1e-6)
    assert {"val_loss", "val_accuracy"} <= set(whole.columns)

    class Stop(Exception):
        pass

    def stop_after(epoch):
        if epoch == 3:
            raise Stop

    resumed_spec = dict(spec, seed=1)
    d = runs.run_dir(resumed_spec, "smoke")
    with pytest.raises(Stop):
        train.fit(resumed_spec, d, data=data, after_epoch=stop_after, **QUIET)
    # without restoring the callback's counters epoch 5 would run at base / 4
    resumed = runs.ensure(resumed_spec, "smoke", data=data, **QUIET)["history"]
    np.testing.assert_allclose(resumed["lr"], expected, rtol=1e-6)


def test_plateau_on_a_validation_metric_needs_a_validation_set(tiny_spec, tiny_data, tmp_path):
    with pytest.raises(ValueError, match="val_subset"):
        train.fit(_plateau_spec(tiny_spec), tmp_path / "r", data=tiny_data, **QUIET)


def test_cosine_schedule_decays_per_step_inside_the_optimizer(tiny_spec, tiny_data):
    spec = dict(tiny_spec, epochs=4, mixing={"name": "none"},
                lr_schedule={"name": "cosine", "alpha": 0.0})
    hist = runs.ensure(spec, "smoke", data=tiny_data, **QUIET)["history"]
    steps = 80 // 16   # batches per epoch
    total = steps * 4
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * e * steps / total)) for e in range(4)]
    np.testing.assert_allclose(hist["lr"], expected, rtol=1e-5)


def test_kl_divergence_run_uses_the_smoothed_targets(tiny_spec, tiny_data):
    """Same seed, same soft targets: CE with Keras's label_smoothing and KL on
    targets smoothed in the data follow the same path (equal gradients)."""
    common = dict(tiny_spec, epochs=2, mixing={"name": "none"}, lr_schedule={"name": "constant"})
    ce = dict(common, loss={"name": "categorical_crossentropy", "label_smoothing": 0.2})
    kl = dict(common, loss={"name": "kl_divergence"}, target_smoothing=0.2)
    h_ce = runs.ensure(ce, "smoke", data=tiny_data, **QUIET)["history"]
    h_kl = runs.ensure(kl, "smoke", data=tiny_data, **QUIET)["history"]
    np.testing.assert_allclose(h_kl["test_accuracy"], h_ce["test_accuracy"], atol=0.051)
    # the training loss differs by the targets' entropy (0.2-smoothed, 10 classes)
    t = np.full(10, 0.02); t[0] = 0.82
    np.testing.assert_allclose(h_ce["loss"] - h_kl["loss"], lossgrad.entropy(t[None])[0], atol=0.02)


# ------------------------------------------------------------------ profiles and latency
def test_profiles_give_every_trick_and_architecture():
    P = params.load("training_tricks", "quick")
    rs = exp.runs(P)
    tricks = {r["labels"]["trick"] for r in rs}
    assert tricks == set(exp.TRICKS) | {"architecture"}
    assert len(rs) == len(exp.TRICKS) * len(P["seeds"]) + len(P["architectures"]) * len(P["arch_seeds"])
    specs = {(r["labels"]["trick"], r["labels"]["seed"]): r["spec"] for r in rs}
    base = specs[("baseline", 0)]
    # every trick changes exactly one part of the baseline recipe
    for trick in exp.TRICKS:
        diff = {k for k in set(base) | set(specs[(trick, 0)])
                if base.get(k) != specs[(trick, 0)].get(k)}
        assert len(diff) <= (2 if trick == "kl_divergence" else 1), (trick, diff)
    assert specs[("random_erasing", 0)]["augment"]["keras_da"]["erasing"]["probability"] == 0.5
    assert specs[("label_smoothing_0.2", 0)]["loss"]["label_smoothing"] == 0.2
    assert len({runs.spec_id(s) for s in specs.values()}) == len(specs)


@pytest.mark.parametrize("change, message", [
    ({"label_smoothing": [1.2]}, "label_smoothing"),
    ({"erasing": {"probability": 2.0}}, "erasing.probability"),
    ({"dataset": {"train_subset": 100}}, "val_subset"),
    ({"plateau": {"patience": 1, "bogus": 2}}, "bogus"),
    ({"architectures": {"big": {"name": "nope"}}}, "model.name"),
])
def test_bad_training_tricks_parameters_are_named(change, message):
    with pytest.raises(params.ParamError, match=message):
        params.load("training_tricks", "smoke", change)


def test_inference_latency_is_measured_per_call_and_ranks_models():
    # compiled, as the notebook measures it: uncompiled, per-op dispatch (~13 ms under
    # JAX on CPU) would drown the compute that separates the two models
    lat = bench.inference_latency({"small": {"name": "cnn10", "width": 2},
                                   "big": {"name": "cnn10", "width": 64}},
                                  repeats=15, warmup=3, jit_compile=True)
    assert len(lat) == 30 and (lat["seconds"] > 0).all()
    s = bench.latency_summary(lat).set_index("model")
    assert s.loc["big", "params"] > 100 * s.loc["small", "params"]
    assert s.loc["small", "latency_ms_p10"] <= s.loc["small", "latency_ms_median"] <= \
        s.loc["small", "latency_ms_p90"]
    assert s.loc["big", "latency_ms_median"] > s.loc["small", "latency_ms_median"]

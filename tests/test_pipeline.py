"""lib.pipeline: MixingBatches' targets, normalisation and pairing."""

import keras
import numpy as np
import pytest

from lib.training.pipeline import MixingBatches, normalize, training_pixel_mean


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


def test_pixel_mean_is_subtracted_after_mixing():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (32, 32, 32, 3), dtype=np.uint8)
    y = np.arange(32) % 10
    mean = training_pixel_mean(x)
    b = MixingBatches(x, y, batch_size=8, mixing="mixup", normalization="pixel_mean", seed=0)
    xb, _, info = b.batch(0)
    lam = info["lam"][:, None, None, None]
    expected = lam * info["images"] / 255 + (1 - lam) * info["partner_images"] / 255 - mean
    np.testing.assert_allclose(xb, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(normalize(x, "pixel_mean", mean).mean(0), 0, atol=1e-5)


def test_mixup_batches_pair_two_permutations():
    x = np.arange(64, dtype=np.uint8).reshape(64, 1, 1, 1).repeat(32, 1).repeat(32, 2).repeat(3, 3)
    y = np.arange(64) % 10
    b = MixingBatches(x, y, batch_size=16, mixing="mixup", alpha=0.2, seed=0)
    assert len(b) == 4                          # as many steps as without mixup
    xb, yb, info = b.batch(0)
    assert xb.shape == (16, 32, 32, 3) and yb.shape == (16, 10)
    lam = info["lam"]
    expected = lam * info["images"][:, 0, 0, 0] / 255 + (1 - lam) * info["partner_images"][:, 0, 0, 0] / 255
    np.testing.assert_allclose(xb[:, 0, 0, 0], expected, rtol=1e-5)
    firsts = np.concatenate([b.batch(i)[2]["images"][:, 0, 0, 0] for i in range(4)])
    seconds = np.concatenate([b.batch(i)[2]["partner_images"][:, 0, 0, 0] for i in range(4)])
    assert sorted(firsts) == list(range(64)) and sorted(seconds) == list(range(64))


def test_shift_after_mixing_flips_and_shifts_the_finished_batch():
    from lib.training import augment
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    y = np.arange(16) % 10
    common = dict(batch_size=8, mixing="mixup", alpha=0.2, seed=3, normalization="pixel_mean")
    plain = MixingBatches(x, y, **common)
    moved = MixingBatches(x, y, shift_after_mixing=3, **common)
    for b in (plain, moved):
        b.set_epoch(1)
    xp, tp, _ = plain.batch(1)
    xm, tm, _ = moved.batch(1)
    np.testing.assert_array_equal(tm, tp)                      # targets untouched
    expected = augment.flip_and_shift(xp, np.random.default_rng([3, 1, 1, 3]), 3)
    np.testing.assert_array_equal(xm, expected)                # one transform of the mix
    assert not np.array_equal(xm, xp)


@pytest.mark.parametrize("mixing", ["none", "bc", "mixup"])
@pytest.mark.parametrize("mode", ["zero_mean", "pixel_mean"])
def test_training_batches_are_normalised_as_the_held_out_images_are(mixing, mode):
    """Every mixing applies the spec's input normalisation to its training
    batches: the batch equals the unit-scaled one (same seed, same mixing
    draws) normalised afterwards, which for these weighted sums equals mixing
    normalised images."""
    x = np.random.default_rng(1).integers(0, 255, (64, 32, 32, 3), dtype=np.uint8)
    y = np.arange(64) % 10
    kw = dict(batch_size=16, mixing=mixing, seed=5, standard_da=True)
    if mixing == "bc":
        kw["step_size"] = 8
    unit, normed = (MixingBatches(x, y, normalization=n, **kw).batch(1)[0]
                    for n in ("unit", mode))
    if mode == "pixel_mean":
        np.testing.assert_allclose(normed, unit - training_pixel_mean(x), atol=1e-5)
    else:
        np.testing.assert_allclose(normed, unit - unit.mean(axis=(1, 2, 3), keepdims=True),
                                   atol=1e-5)
        np.testing.assert_allclose(normed.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
        np.testing.assert_allclose(normalize(x[:4], mode).mean(axis=(1, 2, 3)), 0.0, atol=1e-5)


def test_bc_plus_refuses_a_normalisation_it_cannot_apply_alike():
    x = np.zeros((16, 32, 32, 3), np.uint8)
    y = np.arange(16) % 10
    assert MixingBatches(x, y, batch_size=8, mixing="bc_plus").norm == "zero_mean"
    with pytest.raises(ValueError, match="BC\\+ mixing trains on zero-mean images"):
        MixingBatches(x, y, batch_size=8, mixing="bc_plus", normalization="pixel_mean")
    with pytest.raises(ValueError, match="unknown normalization"):
        MixingBatches(x, y, batch_size=8, normalization="imagenet")

import keras
import numpy as np
import pytest

from lib.training import augment
from lib.training.augment import keras_augmentation
from lib.campaign.experiments import resnet_ablation
from lib.training.pipeline import MixingBatches


def _group(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def test_bc_mix_pairs_different_classes_and_mixes_with_one_r():
    x, y = _group()
    rng = np.random.default_rng(1)
    mixed, soft, r, partners = augment.bc_mix(x, y, rng, repeats=3)
    anchors = np.tile(np.arange(len(x)), 3)
    assert mixed.shape == (192, 32, 32, 3) and mixed.dtype == np.float32
    assert soft.shape == (192, 10)
    assert (y[partners] != y[anchors]).all()
    assert ((r >= 0.5) & (r <= 1.0)).all()
    np.testing.assert_allclose(soft.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(soft[np.arange(192), y[anchors]], r, rtol=1e-6)
    np.testing.assert_allclose(soft[np.arange(192), y[partners]], 1 - r, rtol=1e-5, atol=1e-6)
    expected = r[:, None, None, None] * x[anchors] + (1 - r[:, None, None, None]) * x[partners]
    np.testing.assert_allclose(mixed, expected, rtol=1e-6)


def test_bc_mix_r_is_uniform_on_half_to_one():
    x, y = _group(256)
    _, _, r, _ = augment.bc_mix(x, y, np.random.default_rng(2), repeats=20)
    assert abs(r.mean() - 0.75) < 0.005
    counts, _ = np.histogram(r, bins=5, range=(0.5, 1.0))
    assert counts.min() > 0.9 * len(r) / 5


def test_bc_mix_partners_cover_every_other_class_member():
    # 2 classes x 3 images: each anchor's partners must spread over the 3 others
    x = np.zeros((6, 32, 32, 3), np.float32)
    y = np.array([0, 0, 0, 1, 1, 1])
    _, _, _, partners = augment.bc_mix(x, y, np.random.default_rng(0), repeats=300)
    assert set(partners[0::6]) == {3, 4, 5}


def test_bc_mix_single_class_group_pairs_with_itself():
    x, _ = _group(4)
    y = np.zeros(4, int)
    mixed, soft, _, partners = augment.bc_mix(x, y, np.random.default_rng(0))
    assert (partners == np.arange(4)).all()
    np.testing.assert_allclose(mixed, x, rtol=1e-6)
    np.testing.assert_allclose(soft[:, 0], 1.0)


def test_bc_plus_matches_formula():
    x, y = _group(16)
    mixed, soft, r, partners = augment.bc_plus_mix(x, y, np.random.default_rng(5))
    k = 0
    a, b = x[k] - x[k].mean(), x[partners[k]] - x[partners[k]].mean()
    p = 1 / (1 + a.std() / b.std() * (1 - r[k]) / r[k])
    expected = (p * a + (1 - p) * b) / np.sqrt(p ** 2 + (1 - p) ** 2)
    np.testing.assert_allclose(mixed[k], expected, rtol=1e-4, atol=1e-5)
    assert soft[k, y[k]] == pytest.approx(r[k])        # labels mixed with r, not p
    assert y[partners[k]] != y[k]


def test_flip_and_shift_moves_by_at_most_max_shift():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (32, 32, 32, 3), dtype=np.uint8)
    out = augment.flip_and_shift(x, np.random.default_rng(1), max_shift=4)
    assert out.shape == x.shape and out.dtype == np.uint8
    flips = shifts = 0
    for orig, new in zip(x, out):
        found = None
        for flip in (False, True):
            src = orig[:, ::-1] if flip else orig
            pad = np.pad(src, ((4, 4), (4, 4), (0, 0)), mode="edge")
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    if np.array_equal(pad[4 - dy:36 - dy, 4 - dx:36 - dx], new):
                        found = (flip, dy, dx)
        assert found is not None
        flips += found[0]
        shifts += found[1:] != (0, 0)
    assert 5 < flips < 27 and shifts > 20


def test_batches_build_the_article_step_structure():
    x = np.random.default_rng(0).integers(0, 255, (80, 32, 32, 3), dtype=np.uint8)
    y = np.arange(80) % 10
    b = MixingBatches(x, y, batch_size=32, step_size=8, mixing="bc", seed=0)
    assert len(b) == 10                                  # one batch per group of 8 anchors
    xb, yb, info = b.batch(0)
    assert xb.shape == (32, 32, 32, 3) and yb.shape == (32, 10)
    assert xb.max() <= 1.0
    again = b.batch(0)[0]
    np.testing.assert_array_equal(xb, again)            # a batch is a function of (seed, epoch, index)
    b.set_epoch(1)
    assert not np.array_equal(b.batch(0)[0], xb)
    with pytest.raises(ValueError, match="multiple"):
        MixingBatches(x, y, batch_size=30, step_size=8, mixing="bc")


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


def test_mixup_lambda_is_beta_per_sample_and_shared_by_labels():
    rng = np.random.default_rng(0)
    n = 20000
    x1, x2 = np.zeros((n, 2, 2, 1)), np.ones((n, 2, 2, 1))
    y1, y2 = np.eye(10)[np.zeros(n, int)], np.eye(10)[np.ones(n, int)]
    x, y, lam = augment.mixup(x1, y1, x2, y2, rng, alpha=0.2)
    # image = lam*0 + (1-lam)*1, label = lam on class 0 and 1-lam on class 1
    np.testing.assert_allclose(x[:, 0, 0, 0], 1 - lam, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y[:, 0], lam, rtol=1e-6)
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-6)
    # Beta(0.2, 0.2): mean 1/2, variance 1/(4*(2*0.2+1)) = 0.1786, U-shaped
    assert abs(lam.mean() - 0.5) < 0.01
    assert abs(lam.var() - 0.25 / 1.4) < 0.01
    assert ((lam < 0.1) | (lam > 0.9)).mean() > 0.5
    assert len(np.unique(lam)) > 0.9 * n        # one draw per sample (float32 ties near 0 and 1)


def test_keras_da_layers_act_only_in_training():
    import keras
    da = augment.keras_augmentation(**resnet_ablation.ARTICLE_DA)
    assert [l.__class__.__name__ for l in da.layers] == ["RandomRotation", "RandomTranslation",
                                                         "RandomFlip"]
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(da(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(da(x, training=True)), x)

import numpy as np
import pytest

from lib import augment, models, params
from lib.experiments import resnet_ablation as exp
from lib.params import ParamError
from lib.pipeline import MixingBatches


def conv(k, cin, cout):
    return k * k * cin * cout + cout


def expected_params(step, w=64):
    """Hand count of the article's Keras models (BN has 4 params per channel)."""
    bn = 4 if step >= 2 else 0
    total = conv(1, 3, w) + bn * w
    chans = w
    for sw in (w, 2 * w, 4 * w):
        if step >= 3:   # residual block at the input's width, BN inside and after the add
            total += 2 * conv(3, chans, chans) + 2 * bn * chans
        else:
            total += conv(3, chans, sw) + conv(3, sw, sw) + 2 * bn * sw
        total += conv(3, sw if step < 3 else chans, sw) + bn * sw
        chans = sw
    features = 4 * w if step >= 4 else 3 * 3 * 4 * w   # GAP, or Flatten of 3x3x256
    return total + features * 10 + 10


@pytest.mark.parametrize("step", range(8))
def test_parameter_counts_match_the_articles_models(step):
    m = models.build("resnet_ablation", step=step)
    assert m.count_params() == expected_params(step)
    assert sum(l.__class__.__name__ == "Conv2D" for l in m.layers) == 10
    assert m.output_shape == (None, 10)


def test_published_architecture_facts():
    assert models.build("resnet_ablation", step=0).count_params() == 1_978_442
    assert models.build("resnet_ablation", step=7).count_params() == 855_754
    step5 = models.build("resnet_ablation", step=5)
    assert sum(l.__class__.__name__ == "Dropout" for l in step5.layers) == 3
    assert any(l.__class__.__name__ == "Add" for l in step5.layers)
    assert models.build("resnet_ablation", step=2, width=16).count_params() == expected_params(2, 16)
    with pytest.raises(ValueError, match="0..7"):
        models.build("resnet_ablation", step=8)


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


def test_keras_da_layers_act_only_in_training():
    import keras
    da = augment.keras_augmentation(**exp.ARTICLE_DA)
    assert [l.__class__.__name__ for l in da.layers] == ["RandomRotation", "RandomTranslation",
                                                         "RandomFlip"]
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(da(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(da(x, training=True)), x)


def test_profiles_and_specs():
    P = params.load("resnet_ablation", "paper")
    assert (P["epochs"], P["batch_size"], P["learning_rate"], P["width"]) == (100, 128, 0.001, 64)
    specs = {r["labels"]["step"]: r["spec"] for r in exp.runs(P) if r["labels"]["seed"] == 0}
    assert "keras_da" not in specs[0]["augment"] and specs[1]["augment"]["keras_da"] == exp.ARTICLE_DA
    assert specs[5]["mixing"] == {"name": "none"} and specs[6]["mixing"] == {"name": "mixup", "alpha": 0.2}
    assert not specs[6]["optimizer"]["amsgrad"] and specs[7]["optimizer"]["amsgrad"]
    assert specs[4]["model"]["step"] == 4
    for prof in ("smoke", "quick"):
        params.load("resnet_ablation", prof)
    with pytest.raises(ParamError, match="steps"):
        exp.validate(dict(P, steps=[0, 9]))
    with pytest.raises(ParamError, match="unknown parameter"):
        exp.validate(dict(P, optimizer="sgd"))

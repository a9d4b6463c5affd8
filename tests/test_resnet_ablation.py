import pytest

from lib.campaign import profiles
from lib.training import models
from lib.campaign.experiments import resnet_ablation as exp
from lib.campaign.params import ParamError

from conftest import changed_settings


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


def test_profiles_and_specs():
    P = profiles.load("resnet_ablation", "paper")
    assert (P["epochs"], P["batch_size"], P["learning_rate"], P["width"]) == (100, 128, 0.001, 64)
    specs = {r["labels"]["step"]: r["spec"] for r in exp.runs(P) if r["labels"]["seed"] == 0}
    assert "keras_da" not in specs[0]["augment"] and specs[1]["augment"]["keras_da"] == exp.ARTICLE_DA
    assert specs[5]["mixing"] == {"name": "none"} and specs[6]["mixing"] == {"name": "mixup", "alpha": 0.2}
    assert not specs[6]["optimizer"]["amsgrad"] and specs[7]["optimizer"]["amsgrad"]
    assert specs[4]["model"]["step"] == 4
    for prof in ("smoke", "budget"):
        profiles.load("resnet_ablation", prof)
    # budget: the article's recipe on the full data, width and epochs scaled down, and the
    # test-time BatchNorm statistics following the weights of a short run faster
    B = profiles.load("resnet_ablation", "budget")
    assert changed_settings(P, B) == {"profile", "width", "epochs", "bn_momentum", "decayed", "long"}
    assert B["bn_momentum"] == 0.9
    assert B["width"] < P["width"] and B["epochs"] < P["epochs"]
    with pytest.raises(ParamError, match="steps"):
        exp.validate(dict(P, steps=[0, 9]))
    with pytest.raises(ParamError, match="unknown parameter"):
        exp.validate(dict(P, optimizer="sgd"))

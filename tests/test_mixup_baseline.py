import numpy as np
import pytest

from lib import models, params
from lib.experiments import mixup_baseline as exp
from lib.params import ParamError
from lib.pipeline import MixingBatches, normalize, training_pixel_mean
from lib.train import lr_at


def _resnet_v1_params(depth):
    """Hand count: 3x3 convs (bias) + BN (4/channel), 1x1 projections without BN, Dense."""
    n = (depth - 2) // 6
    total = (27 * 16 + 16) + 4 * 16
    cin = 16
    for stage, f in enumerate((16, 32, 64)):
        for block in range(n):
            total += (9 * cin * f + f) + 4 * f + (9 * f * f + f) + 4 * f
            if stage > 0 and block == 0:
                total += cin * f + f
            cin = f
    return total + 64 * 10 + 10


def test_resnet20_v1_matches_the_keras_example():
    m = models.build("resnet20v1")
    assert m.count_params() == _resnet_v1_params(20) == 274_442
    assert round(m.count_params() / 1e6, 2) == 0.27        # the example's table: 0.27M
    convs = [l for l in m.layers if l.__class__.__name__ == "Conv2D"]
    assert len(convs) == 21 and {l.filters for l in convs} == {16, 32, 64}  # 19 + 2 projections
    assert all(l.kernel_regularizer is not None for l in convs)
    assert models.build("resnet_v1", depth=32).count_params() == _resnet_v1_params(32)
    with pytest.raises(ValueError, match="6n"):
        models.build("resnet_v1", depth=21)


def test_example_learning_rate_schedule():
    P = params.load("mixup_baseline", "paper")
    sched = exp.alpha_spec(P, 0.2, 0)["lr_schedule"]
    lrs = [lr_at(sched, 1e-3, e) for e in (0, 80, 81, 120, 121, 161, 181, 199)]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-6, 5e-7, 5e-7])


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


def test_profiles():
    P = params.load("mixup_baseline", "paper")
    assert (P["epochs"], P["batch_size"], P["learning_rate"]) == (200, 32, 0.001)
    specs = {(r["labels"]["alpha"], r["labels"]["seed"]): r["spec"] for r in exp.runs(P)}
    assert specs[(0.0, 0)]["mixing"] == {"name": "none"}
    assert specs[(0.2, 0)]["mixing"] == {"name": "mixup", "alpha": 0.2}
    assert specs[(0.2, 0)]["augment"]["keras_da"] == {"shift": 0.1, "flip": True}
    assert specs[(0.2, 0)]["input"] == "pixel_mean"
    q = params.load("mixup_baseline", "quick")
    labels = [(r["labels"]["alpha"], r["labels"]["seed"]) for r in exp.runs(q)]
    assert (0.2, 1) in labels and (0.4, 1) not in labels     # sweep_seeds for the extra alphas
    params.load("mixup_baseline", "smoke")
    with pytest.raises(ParamError, match="alphas"):
        exp.validate(dict(P, alphas=[-1]))
    with pytest.raises(ParamError, match="multipliers"):
        exp.validate(dict(P, lr_schedule={"milestones": [1, 2], "multipliers": [0.1]}))

"""lib.schedules: step, plateau and cosine schedules, through real runs."""

import math

import numpy as np
import pytest

from lib.campaign import cache
from lib.training import train
import keras

from lib.training.schedules import EpochSchedule, StepwiseSchedule, make

QUIET = dict(jit_compile=False, log=lambda s: None)


class Stop(Exception):
    pass


def interrupted_then_resumed(spec, data, after: int):
    """History of ``spec`` trained to epoch ``after``, stopped, then resumed."""
    def stop(epoch):
        if epoch == after:
            raise Stop

    with pytest.raises(Stop):
        train.fit(spec, cache.run_dir(spec, "smoke"), data=data, after_epoch=stop, **QUIET)
    return cache.ensure(spec, "smoke", data=data, **QUIET)["history"]


QUIET = dict(jit_compile=False, log=lambda s: None)


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

    whole = cache.ensure(spec, "smoke", data=data, **QUIET)["history"]
    np.testing.assert_allclose(whole["lr"], expected, rtol=1e-6)
    assert {"val_loss", "val_accuracy"} <= set(whole.columns)

    # without restoring the callback's counters epoch 5 would run at base / 4
    resumed = interrupted_then_resumed(dict(spec, seed=1), data, after=3)
    np.testing.assert_allclose(resumed["lr"], expected, rtol=1e-6)


def test_plateau_on_a_validation_metric_needs_a_validation_set(tiny_spec, tiny_data, tmp_path):
    with pytest.raises(ValueError, match="val_subset"):
        train.fit(_plateau_spec(tiny_spec), tmp_path / "r", data=tiny_data, **QUIET)


def test_cosine_schedule_decays_per_step_inside_the_optimizer(tiny_spec, tiny_data):
    spec = dict(tiny_spec, epochs=4, mixing={"name": "none"},
                lr_schedule={"name": "cosine", "alpha": 0.0})
    hist = cache.ensure(spec, "smoke", data=tiny_data, **QUIET)["history"]
    steps = 80 // 16   # batches per epoch
    total = steps * 4
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * e * steps / total)) for e in range(4)]
    np.testing.assert_allclose(hist["lr"], expected, rtol=1e-5)


def test_step_schedule_multiplies_per_milestone_or_uses_the_multipliers():
    factor = EpochSchedule({"name": "step", "milestones": [2, 4], "factor": 0.2}, 1.0)
    assert [factor.rate(e) for e in range(6)] == pytest.approx([1, 1, 0.2, 0.2, 0.04, 0.04])
    multi = EpochSchedule({"name": "step", "milestones": [1, 3], "multipliers": [0.1, 0.01]}, 2.0)
    assert [multi.rate(e) for e in range(4)] == pytest.approx([2, 0.2, 0.2, 0.02])
    assert EpochSchedule({"name": "constant"}, 0.5).rate(99) == 0.5


def test_rate_lowered_tells_which_seeds_a_plateau_schedule_acted_on():
    import pandas as pd
    from lib.training.schedules import rate_lowered
    hist = pd.DataFrame({"seed": [0, 0, 0, 1, 1, 1], "epoch": [3, 1, 2, 1, 2, 3],
                         "lr": [1e-4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]})
    assert rate_lowered(hist).to_dict() == {0: True, 1: False}


def test_unknown_schedule_is_named():
    from lib.training import schedules
    with pytest.raises(ValueError, match="unknown lr_schedule 'warmup'"):
        schedules.make({"name": "warmup"}, 1e-3, 10, 10)


def test_fractional_milestones_switch_at_the_step_that_fraction_is_reached():
    cfg = {"name": "step", "milestones": [1.4, 2.6], "factor": 0.5}
    assert isinstance(make(cfg, 0.01, 5, 4), StepwiseSchedule)
    assert isinstance(make({**cfg, "milestones": [1, 3]}, 0.01, 5, 4), EpochSchedule)
    rate = make(cfg, 0.01, 5, 4).optimizer_rate()
    at = lambda step: float(keras.ops.convert_to_numpy(rate(step)))
    # 1.4 epochs of 5 steps = 7 updates at the base rate, then half, 13 -> a quarter
    assert [at(s) for s in (0, 6, 7, 12, 13, 19)] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025])
    # integer milestones given to the per-step form agree with the per-epoch one
    whole = StepwiseSchedule({"name": "step", "milestones": [2], "factor": 0.2}, 1.0, 5)
    per_step = whole.optimizer_rate()
    assert [float(keras.ops.convert_to_numpy(per_step(s))) for s in range(15)] == \
        pytest.approx([whole.rate(s // 5) for s in range(15)])


def test_a_compressed_schedule_resumes_at_the_same_rates(tiny_spec, tiny_data):
    spec = dict(tiny_spec, epochs=3, mixing={"name": "none"},
                lr_schedule={"name": "step", "milestones": [0.4, 1.6], "factor": 0.5})
    whole = cache.ensure(spec, "smoke", data=tiny_data, **QUIET)["history"]
    # 5 steps per epoch: epoch 2 starts after the switch at step 2, epoch 3 after step 8
    np.testing.assert_allclose(whole["lr"], [0.01, 0.005, 0.0025], rtol=1e-6)

    resumed = interrupted_then_resumed(dict(spec, seed=1), tiny_data, after=1)
    np.testing.assert_allclose(resumed["lr"], [0.01, 0.005, 0.0025], rtol=1e-6)

"""lib.schedules: step, plateau and cosine schedules, through real runs."""

import math

import numpy as np
import pytest

from lib import runs, train
from lib.schedules import EpochSchedule

QUIET = dict(jit_compile=False, log=lambda s: None)


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


def test_step_schedule_multiplies_per_milestone_or_uses_the_multipliers():
    factor = EpochSchedule({"name": "step", "milestones": [2, 4], "factor": 0.2}, 1.0)
    assert [factor.rate(e) for e in range(6)] == pytest.approx([1, 1, 0.2, 0.2, 0.04, 0.04])
    multi = EpochSchedule({"name": "step", "milestones": [1, 3], "multipliers": [0.1, 0.01]}, 2.0)
    assert [multi.rate(e) for e in range(4)] == pytest.approx([2, 0.2, 0.2, 0.02])
    assert EpochSchedule({"name": "constant"}, 0.5).rate(99) == 0.5


def test_unknown_schedule_is_named():
    from lib import schedules
    with pytest.raises(ValueError, match="unknown lr_schedule 'warmup'"):
        schedules.make({"name": "warmup"}, 1e-3, 100)

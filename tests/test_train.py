"""lib.train: a run learns, resumes after an interruption or a kill with each
epoch once, stops on a non-finite loss, and computes in the spec's precision."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lib.campaign import cache
from lib.store import runfiles
from lib.training import lossgrad, train
from lib.training.spec import spec_id

REPO = Path(__file__).resolve().parent.parent
QUIET = dict(jit_compile=False, log=lambda s: None)


def test_tiny_model_learns(tiny_spec, tiny_data):
    spec = {**tiny_spec, "mixing": {"name": "none"}, "augment": {"standard_da": False},
            "batch_size": 8, "epochs": 4, "model": {"name": "cnn10", "width": 4, "bn_momentum": 0.5},
            "lr_schedule": {"name": "constant"}}
    run = cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["metrics"]["final_train_accuracy"] > 0.3      # chance is 0.1


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_each_epoch_once(tiny_spec, tiny_data):
    d = cache.run_dir(tiny_spec, "smoke")

    def stop_after(epoch):
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.fit(tiny_spec, d, data=tiny_data, jit_compile=False, log=lambda s: None,
                  after_epoch=stop_after)
    assert not cache.is_finished(d)
    assert json.loads((d / "checkpoint" / "state.json").read_text())["epochs_done"] == 2
    first_two = runfiles.read_history(d / "history.csv")
    logs = []
    run = cache.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=logs.append)
    assert any("resuming after epoch 2/3" in s for s in logs)
    assert run["history"]["epoch"].tolist() == [1, 2, 3]
    assert run["history"].iloc[:2].to_dict("records") == first_two
    assert not (d / "checkpoint").exists()           # resume state is dropped when finished


@pytest.mark.backend_free   # under JAX, tests/test_faults.py kills twenty times
def test_killed_process_resumes(tiny_spec, tiny_data, tmp_path):
    """A training process killed with SIGKILL right after committing epoch 2
    (a failpoint; tests/test_faults.py kills at random points), then the run
    finished in this one: each epoch once."""
    spec = {**tiny_spec, "epochs": 4}
    d = cache.run_dir(spec, "smoke")
    np.savez(tmp_path / "data.npz", *tiny_data)
    script = (
        "import json, sys, numpy as np\n"
        "from lib.training import train\n"
        f"z = np.load({str(tmp_path / 'data.npz')!r})\n"
        "data = tuple(z[f'arr_{i}'] for i in range(4))\n"
        f"train.fit(json.loads({json.dumps(json.dumps(spec))}), {str(d)!r}, data=data, "
        "jit_compile=False)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "ABLATION_FAILPOINT": "state-written:2"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert json.loads((d / "checkpoint" / "state.json").read_text())["epochs_done"] == 2
    assert not cache.is_finished(d)
    first_two = runfiles.read_history(d / "history.csv")
    run = cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["history"]["epoch"].tolist() == [1, 2, 3, 4]
    assert run["history"].iloc[:2].to_dict("records") == first_two


def test_nan_loss_stops_with_clear_error_and_nothing_cached(tiny_spec, tiny_data):
    spec = {**tiny_spec, "optimizer": {"name": "sgd", "learning_rate": 1e30},
            "loss": {"name": "categorical_crossentropy"}}
    d = cache.run_dir(spec, "smoke")
    with pytest.raises(train.NonFiniteLossError, match="loss became"):
        cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert not cache.is_finished(d)


def test_mixed_precision_is_a_run_of_its_own_recorded_and_restored(tiny_spec, tiny_data):
    import keras

    spec = {**tiny_spec, "mixing": {"name": "none"}, "augment": {"standard_da": False},
            "batch_size": 8, "epochs": 2, "model": {"name": "cnn10", "width": 4, "bn_momentum": 0.5},
            "lr_schedule": {"name": "constant"}}
    plain = cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert plain["metrics"]["dtype_policy"] == "float32"
    bf16 = {**spec, "precision": "mixed_bfloat16"}
    assert spec_id(bf16) != spec_id(spec)        # not served from the float32 run's cache
    run = cache.ensure(bf16, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["id"] == spec_id(bf16) and run["metrics"]["dtype_policy"] == "mixed_bfloat16"
    assert run["metrics"]["final_train_accuracy"] > 0.2       # still learns (chance 0.1)
    assert keras.config.dtype_policy().name == "float32"     # the global policy is put back


QUIET = dict(jit_compile=False, log=lambda s: None)


def test_kl_divergence_run_uses_the_smoothed_targets(tiny_spec, tiny_data):
    """Same seed, same soft targets: CE with Keras's label_smoothing and KL on
    targets smoothed in the data follow the same path (equal gradients)."""
    common = dict(tiny_spec, epochs=2, mixing={"name": "none"}, lr_schedule={"name": "constant"})
    ce = dict(common, loss={"name": "categorical_crossentropy", "label_smoothing": 0.2})
    kl = dict(common, loss={"name": "kl_divergence"}, target_smoothing=0.2)
    h_ce = cache.ensure(ce, "smoke", data=tiny_data, **QUIET)["history"]
    h_kl = cache.ensure(kl, "smoke", data=tiny_data, **QUIET)["history"]
    np.testing.assert_allclose(h_kl["test_accuracy"], h_ce["test_accuracy"], atol=0.051)
    # the training loss differs by the targets' entropy (0.2-smoothed, 10 classes)
    t = np.full(10, 0.02); t[0] = 0.82
    np.testing.assert_allclose(h_ce["loss"] - h_kl["loss"], lossgrad.entropy(t[None])[0], atol=0.02)

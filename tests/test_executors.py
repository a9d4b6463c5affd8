"""lib.executors: a profile computed as Ray tasks on a local Ray, and a
worker killed mid-run: Ray retries the task, which resumes from the run's
last checkpoint and finishes with each epoch once."""

import json
import os
import signal
import threading
import time

import pytest

from lib import cli
from lib.campaign import cache, profiles
from lib.store import runfiles
from lib.training.spec import spec_id
from lib.store.runlock import read_owner

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="Ray tests run once, in the TensorFlow pass (workers import that backend)")


@pytest.fixture(scope="module")
def ray_session(tmp_path_factory):
    """One local Ray for the module, and one results folder: a task carries
    the folder in its environment, and Ray reuses a worker (which has
    imported TensorFlow once) only for tasks with the same environment."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield tmp_path_factory.mktemp("ray-results")
    ray.shutdown()


@pytest.fixture
def local_ray(ray_session, monkeypatch):
    monkeypatch.setenv("ABLATION_RESULTS_DIR", str(ray_session))


def test_ray_executor_computes_a_smoke_profile(local_ray, capsys):
    if not os.environ.get("CIFAR10_PATH"):
        pytest.skip("needs the real CIFAR-10 (set CIFAR10_PATH)")
    assert cli.main(["compute", "natural_artificial_loss", "--profile", "smoke",
                      "--executor", "ray"]) == 0
    out = capsys.readouterr().out
    _, planned = profiles.notebook_runs("natural_artificial_loss", "smoke")
    progress = [l for l in out.splitlines() if "finished; elapsed" in l]
    assert len(progress) == len(planned) and f"[{len(planned)}/{len(planned)}]" in out
    assert "ETA" in progress[0]
    for r in planned:
        d = cache.run_dir(r["spec"], "smoke")
        _, history = runfiles.read_finished(d)
        assert [h["epoch"] for h in history] == list(range(1, r["spec"]["epochs"] + 1))
        assert not (d / "lock").exists()
    # computed again: everything is cached, nothing is sent to Ray
    assert cli.main(["compute", "natural_artificial_loss", "--profile", "smoke",
                      "--executor", "ray"]) == 0
    assert "0 to train" in capsys.readouterr().out


def test_killed_ray_worker_is_retried_and_resumes(local_ray, tiny_spec, tiny_data):
    from lib.campaign import executors

    spec = {**tiny_spec, "epochs": 30}
    d = cache.run_dir(spec, "smoke")
    seen = {}

    def kill_worker_after_two_epochs():
        deadline = time.time() + 300
        state = d / "checkpoint" / "state.json"
        while time.time() < deadline:
            try:
                if json.loads(state.read_text())["epochs_done"] >= 2:
                    seen["history"] = runfiles.read_history(d / "history.csv")
                    seen["pid"] = read_owner(d)["pid"]
                    os.kill(seen["pid"], signal.SIGKILL)
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.02)

    killer = threading.Thread(target=kill_worker_after_two_epochs)
    killer.start()
    logs = []
    failed = executors.ray_compute([{"labels": {"seed": 0}, "spec": spec}], "smoke",
                                   {"data": tiny_data, "jit_compile": False}, log=logs.append)
    killer.join()
    assert failed == [], failed
    assert seen.get("pid") and seen["pid"] != os.getpid(), "the worker was never killed"
    _, history = runfiles.read_finished(d)
    assert [h["epoch"] for h in history] == list(range(1, 31))
    # resumed, not restarted: the epochs done before the kill are kept as they were
    k = len(seen["history"])
    assert k >= 2 and history[:k] == seen["history"][:k]
    assert any("[1/1]" in l and "finished" in l for l in logs)


def test_failed_run_is_reported_and_the_others_go_on(local_ray, tiny_spec, tiny_data):
    from lib.campaign import executors

    good = {**tiny_spec, "epochs": 1}
    bad = {**good, "optimizer": {"name": "sgd", "learning_rate": 1e30},
           "loss": {"name": "categorical_crossentropy"}}          # loss becomes NaN
    logs = []
    failed = executors.ray_compute([{"labels": {"arm": "bad"}, "spec": bad},
                                    {"labels": {"arm": "good"}, "spec": good}], "smoke",
                                   {"data": tiny_data, "jit_compile": False}, log=logs.append)
    assert [f.run_id for f in failed] == [spec_id(bad)]
    assert failed[0].error.startswith("NonFiniteLossError: ")    # the training's own exception
    assert "loss became" in failed[0].error and "loss became" in failed[0].detail
    assert cache.is_finished(cache.run_dir(good, "smoke"))
    assert any("FAILED" in l for l in logs)


def test_tasks_get_as_many_tensorflow_threads_as_cpus(monkeypatch):
    """Tasks placed side by side must not each size TensorFlow's pools to
    every core of the machine; a value set in the submitting shell wins."""
    from lib.campaign import executors

    for k in executors.THREAD_ENV:
        monkeypatch.delenv(k, raising=False)
    assert all(k not in executors._worker_env() for k in executors.THREAD_ENV)
    assert [executors._worker_env(1)[k] for k in executors.THREAD_ENV] == ["1", "1"]
    assert [executors._worker_env(1.5)[k] for k in executors.THREAD_ENV] == ["2", "2"]
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "4")
    env = executors._worker_env(1)
    assert (env["TF_NUM_INTRAOP_THREADS"], env["TF_NUM_INTEROP_THREADS"]) == ("4", "1")

"""lib.plan: what a profile costs before anything trains (statuses, epochs,
images, FLOPs, hours), and `check`, which starts every paper configuration
for a few steps on real data under each backend."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib import cli
from lib.campaign import plan, cache, profiles
from lib.measure import check
from lib.store import runfiles, paths
from lib.training import models

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free

REPO = Path(__file__).resolve().parent.parent


def test_images_per_epoch_follows_the_pipeline():
    base = {"dataset": {"name": "cifar10"}, "mixing": {"name": "bc", "step_size": 128},
            "batch_size": 1024}
    assert plan.images_per_epoch(base) == 50_000 // 128 * 1024          # BC case 2: 8x
    assert plan.images_per_epoch({**base, "mixing": {"name": "none"}, "batch_size": 128}) \
        == 50_000 // 128 * 128
    val = {**base, "dataset": {"name": "cifar10", "val_subset": 5000}, "batch_size": 128,
           "mixing": {"name": "none"}}
    assert plan.images_per_epoch(val) == 45_000 // 128 * 128
    assert plan.test_images(val) == 15_000


def _history(epochs):
    return [{"epoch": e, "loss": 1.0, "accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.5,
             "lr": 0.01, "train_seconds": 1.0, "epoch_seconds": 1.0} for e in range(1, epochs + 1)]


@pytest.fixture
def three_runs(tiny_spec, monkeypatch):
    """A pretend notebook of three runs: one finished, one stopped after an
    epoch, one new (their files written as the trainer writes them)."""
    specs = [{**tiny_spec, "seed": s} for s in range(3)]
    monkeypatch.setattr(profiles, "notebook_runs", lambda nb, profile, overrides=None: (
        {}, [{"labels": {"seed": s["seed"]}, "spec": s} for s in specs]))
    done, half = (cache.run_dir(s, "smoke") for s in specs[:2])
    (done).mkdir(parents=True)
    (half / "checkpoint").mkdir(parents=True)
    for d, spec in ((done, specs[0]), (half, specs[1])):
        runfiles.write_json(d / "spec.json", spec)
    runfiles.write_history(done / "history.csv", _history(3))
    runfiles.write_json(done / "metrics.json", {k: 1 for k in runfiles.METRICS_KEYS} | {"epochs": 3})
    runfiles.write_history(half / "history.csv", _history(1))
    (half / "checkpoint" / "epoch-1.keras").write_bytes(b"")
    runfiles.write_json(half / "checkpoint" / "state.json", {
        "epochs_done": 1, "file": "epoch-1.keras", "train_seconds": 1.0, "wall_seconds": 1.0})
    return specs


def test_plan_counts_what_remains(three_runs, tiny_spec):
    table = plan.plan(["pretend"], "smoke")
    assert table["status"].tolist() == ["finished", "unfinished", "new"]
    assert table["epochs_left"].tolist() == [0, 2, 3]
    # the plan reads the spec (full CIFAR-10: BC groups of 8, batch 16), not the
    # small arrays these pretend runs were trained on
    per_epoch = 50_000 // 8 * 16
    assert table["train_images_left"].tolist() == [0, 2 * per_epoch, 3 * per_epoch]
    fwd = models.flops_per_image(models.build(**tiny_spec["model"]))["forward"]
    # per epoch: 3x forward per training image, 1x per test image
    assert table["flops_left"].tolist() == [0, 2 * (3 * fwd * per_epoch + fwd * 10_000),
                                            3 * (3 * fwd * per_epoch + fwd * 10_000)]
    assert table["seconds_here"].isna().all()      # nothing measured yet
    tot = plan.totals(table, tflops=2.0)
    assert tot.loc[0, ["runs", "cached", "unfinished", "new"]].tolist() == [3, 1, 1, 1]
    assert tot.loc[0, "hours_at_2_tflops"] == pytest.approx(
        table["flops_left"].sum() / 2e12 / 3600)
    assert tot.loc[0, "hours_here"] is None


def test_plan_uses_measured_images_per_second(three_runs):
    table = plan.plan(["pretend"], "smoke")
    cid = table["config_id"].iloc[0]
    timings = paths.profile_dir("smoke") / "timings"
    timings.mkdir(parents=True)
    row = {"config_id": cid, "images_per_second": 100.0, "measured_at": "2026", "cpu": "X",
           "backend": "tensorflow"}
    (timings / "m.json").write_text(json.dumps({"request": {"kind": "check"}, "rows": [row]}))
    table = plan.plan(["pretend"], "smoke")
    left = table.iloc[2]
    assert left["seconds_here"] == pytest.approx(
        (left["train_images_left"] + left["epochs_left"] * 10_000 / 3) / 100.0)
    text = plan.render(table, "smoke", tflops=300)
    assert "hours_at_300_tflops" in text and "measured by `check` on: X (tensorflow)" in text
    # a measurement without this processor's cpu_id (older, or another host) is flagged
    assert ("another kind of processor" in text) == (runfiles.cpu_id() is not None)
    row["cpu_id"] = runfiles.cpu_id()
    (timings / "m.json").write_text(json.dumps({"request": {"kind": "check"}, "rows": [row]}))
    text = plan.render(plan.plan(["pretend"], "smoke"), "smoke")
    assert "another kind of processor" not in text
    assert f"on: {' '.join(filter(None, ('X', runfiles.cpu_id())))} (tensorflow)" in text
    # a check that asked for XLA times only `plan --xla on`
    (timings / "m.json").write_text(json.dumps(
        {"request": {"kind": "check", "jit_compile": True}, "rows": [row]}))
    assert plan.plan(["pretend"], "smoke", xla=False)["seconds_here"].isna().all()
    assert plan.plan(["pretend"], "smoke", xla=True)["images_per_second_here"].iloc[2] == 100.0


def test_plan_cli_totals_for_every_notebook(capsys):
    assert cli.main(["plan", "all", "--profile", "paper", "--tflops", "300", "--totals"]) == 0
    out = capsys.readouterr().out
    table = plan.plan([n for n in profiles.experiments.names()], "paper")
    for nb in table["notebook"].unique():
        assert nb in out
    last = [l for l in out.splitlines() if l.strip().startswith("all ")][0].split()
    assert int(last[1]) == len(table) and int(last[4]) == len(table)   # runs, all new
    assert f"{table['flops_left'].sum() / 1e18:.3f}" in last


CHECK = """
import json, sys
if sys.argv[1] == "jax":
    import tests.no_tensorflow   # as on the GPU machine: TensorFlow cannot be imported
from lib import cli
from lib.campaign import plan, cache, profiles
from lib.measure import check
from lib.store import paths
table = check.check("bc_learning", "paper", steps=1, max_batch=32, log=lambda s: None)
print("TENSORFLOW_LOADED", "tensorflow" in sys.modules)
print("RESULT", table.to_json(orient="records"))
"""


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                    reason="starts both backends itself; the default-backend session runs it")
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_every_paper_configuration_of_bc_learning_starts(backend, tmp_path):
    """All six distinct configurations of the paper profile (full-width cnn10,
    KL loss, BC / BC+ / none, with and without DA, XLA) build, compile and
    train on real CIFAR-10 and report images/s. The batch is capped at 32 here
    (BC's groups in proportion) to keep `make test` short on a CPU; run
    `python -m lib check bc_learning --profile paper` for the full batches."""
    pytest.importorskip(backend)
    if not os.environ.get("CIFAR10_PATH"):
        pytest.skip("needs the real CIFAR-10 (set CIFAR10_PATH)")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", CHECK, backend], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert f"TENSORFLOW_LOADED {backend == 'tensorflow'}" in out.stdout
    rows = json.loads(out.stdout.split("RESULT ", 1)[1])
    assert len(rows) == 6, rows
    assert all(r["ok"] and r["images_per_second"] > 0 for r in rows), rows
    assert {r["backend"] for r in rows} == {backend}
    assert {r["batch_size"] for r in rows} == {128, 1024}
    assert {r["probe_batch"] for r in rows} == {32}
    assert all(json.loads(r["model"]) == {"name": "cnn10", "width": 64} for r in rows)
    # capped probes are no measurement of the runs: nothing stored for `plan`
    assert not list((Path(env["ABLATION_RESULTS_DIR"]) / "paper").glob("timings/*.json"))


def test_capped_probe_keeps_bc_groups_in_proportion():
    spec = {"dataset": {"name": "cifar10"}, "mixing": {"name": "bc", "step_size": 128},
            "batch_size": 1024, "epochs": 250}
    probe = check._probe_spec(spec, steps=2, max_batch=32)
    assert (probe["batch_size"], probe["mixing"]["step_size"]) == (32, 4)
    assert probe["dataset"]["train_subset"] == 12 and probe["epochs"] == 2   # >= 10 images
    assert check._probe_spec(spec, steps=2)["batch_size"] == 1024


def test_a_run_in_training_counts_the_epochs_its_checkpoint_keeps(three_runs):
    """A trainer writes history.csv before its checkpoint's state: a run
    being trained may show an epoch in its history that a resume would
    train again, so what remains counts from the checkpoint."""
    from lib.store.runlock import RunLock

    half = cache.run_dir(three_runs[1], "smoke")
    runfiles.write_history(half / "history.csv", _history(2))
    with RunLock(half, log=lambda _: None):
        status = cache.run_status(half)
        assert (status.status, status.epochs_done) == ("training", 1)
        assert status.detail.startswith("1 epochs done, by pid")
        table = plan.plan(["pretend"], "smoke")
    assert table["status"].tolist() == ["finished", "training", "new"]
    assert table["epochs_done"].tolist() == [3, 1, 0]
    assert cache.run_status(half).status == "unfinished"


@pytest.mark.backend_free
def test_plan_prefers_this_processors_speeds(three_runs, monkeypatch):
    """A check measured on another kind of processor gives way to finished runs
    of the same configuration here; a check measured here wins over both."""
    from lib.training.spec import configuration, spec_id
    cid = spec_id(configuration(three_runs[0]))
    monkeypatch.setattr(plan, "cpu_id", lambda: "here")
    monkeypatch.setattr(plan, "finished_throughput", lambda profile, on_cpu, xla=None: {
        cid: {"images_per_second": 100.0, "runs": 2}})
    for where, expected in (("elsewhere", (100.0, "finished runs")), ("here", (400.0, "check"))):
        monkeypatch.setattr(plan, "measured_throughput", lambda profile, xla=None, w=where: {
            cid: {"images_per_second": 400.0, "cpu_id": w, "measured_at": "x"}})
        t = plan.plan(["bc_learning"], "smoke")
        new = t[t["status"] == "new"].iloc[0]
        assert (new["images_per_second_here"], new["speed_from"]) == expected


def test_plan_reads_the_speed_of_runs_with_the_xla_asked_for(tiny_spec, monkeypatch):
    """XLA changes a CPU's speed several-fold: `plan --xla on` times a
    configuration by its runs that trained with XLA, and falls back (saying
    so) to runs without it only where none did."""
    from lib.training.spec import configuration, spec_id
    monkeypatch.setattr(plan, "cpu_id", lambda: "here")
    specs = [{**tiny_spec, "seed": s} for s in range(4)]
    for spec, (xla, speed) in zip(specs[:3], ((False, 100.0), (True, 300.0), (True, 260.0))):
        d = cache.run_dir(spec, "smoke")
        d.mkdir(parents=True)
        runfiles.write_json(d / "spec.json", spec)
        runfiles.write_history(d / "history.csv", _history(3))
        runfiles.write_json(d / "metrics.json", {k: 1 for k in runfiles.METRICS_KEYS} | {
            "epochs": 3, "images_per_second": speed, "xla": xla, "cpu_id": "here"})
    cid = spec_id(configuration(specs[0]))
    assert plan.finished_throughput("smoke", "here")[cid] == {
        "images_per_second": 260.0, "runs": 3, "xla": None}
    assert plan.finished_throughput("smoke", "here", xla=True)[cid] == {
        "images_per_second": 280.0, "runs": 2, "xla": True}
    assert plan.finished_throughput("smoke", "here", xla=False)[cid] == {
        "images_per_second": 100.0, "runs": 1, "xla": False}
    assert plan.finished_throughput("smoke", "elsewhere") == {}

    monkeypatch.setattr(profiles, "notebook_runs", lambda nb, profile, overrides=None: (
        {}, [{"labels": {"seed": 3}, "spec": specs[3]}]))
    new = plan.plan(["pretend"], "smoke", xla=False).iloc[0]
    assert (new["images_per_second_here"], new["speed_from"]) == (100.0, "finished runs")
    # no run without XLA left: the XLA runs' speed, marked as such
    runfiles.write_json(cache.run_dir(specs[0], "smoke") / "metrics.json",
                        {k: 1 for k in runfiles.METRICS_KEYS} | {
                            "epochs": 3, "images_per_second": 320.0, "xla": True,
                            "cpu_id": "here"})
    table = plan.plan(["pretend"], "smoke", xla=False)
    assert (table.iloc[0]["images_per_second_here"], table.iloc[0]["speed_from"]) == (
        300.0, "finished runs (XLA on)")
    text = plan.render(table, "smoke", xla=False)
    assert "trained with XLA off" in text and "their time is that of runs with XLA on" in text

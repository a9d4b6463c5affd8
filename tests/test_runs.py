"""lib.campaign.cache, compute and profiles: the run cache, computing a profile, and the command line."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lib import cli
from lib.campaign import cache, compute, params, profiles
from lib.store import runfiles, paths
from lib.training import data, train
from lib.training.spec import read_prefixes, spec_id

REPO = Path(__file__).resolve().parent.parent


def test_run_is_written_then_loaded_from_cache(tiny_spec, tiny_data, monkeypatch):
    run = cache.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    d = cache.run_dir(tiny_spec, "smoke")
    assert {p.name for p in d.iterdir()} == {"spec.json", "history.csv", "metrics.json"}
    assert json.loads((d / "spec.json").read_text()) == tiny_spec
    h = run["history"]
    assert h["epoch"].tolist() == [1, 2, 3]
    assert h["lr"].tolist() == pytest.approx([0.01, 0.01, 0.005])     # step schedule
    assert (h["epoch_seconds"] > 0).all()
    m = run["metrics"]
    assert m["epochs"] == 3 and m["train_images"] == 3 * 10 * 16
    assert m["best_test_accuracy"] == h["test_accuracy"].max()
    assert m["backend"] in ("tensorflow", "jax")
    assert m["xla"] is False and m["cpu"] and len(m["git_commit"].split("+")[0]) == 40
    assert "cpu_id" in m
    # a cached run is never retrained
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("retrained a cached run"))
    again = cache.ensure(tiny_spec, "smoke", log=lambda s: None)
    assert again["metrics"] == m


# ------------------------------------------------------------------ parameters


@pytest.mark.backend_free   # cache logic; one backend is enough
def test_cli_list_and_bad_profile(tiny_spec, tiny_data, capsys):
    cache.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert cli.main(["list", "--profile", "smoke"]) == 0
    out = capsys.readouterr().out
    assert spec_id(tiny_spec) in out and "finished" in out


@pytest.mark.backend_free   # cache logic; one backend is enough
def test_raising_the_seed_count_trains_only_new_seeds(tiny_data, monkeypatch):
    monkeypatch.setattr(data, "load_data", lambda ds: tiny_data)
    trained = []
    real_fit = train.fit

    def counting_fit(spec, run_dir, **kw):
        trained.append(spec["seed"])
        return real_fit(spec, run_dir, **kw)

    monkeypatch.setattr(train, "fit", counting_fit)
    only = {"patterns": {"normal_lr1e-3": {"loss": "categorical_crossentropy",
                                           "learning_rate": 0.001}},
            "extra_seeds": {}, "epochs": 1}
    quiet = {"log": lambda s: None}
    t1 = compute.ensure_all("natural_artificial_loss", "smoke", {**only, "seeds": [0]}, **quiet)
    t2 = compute.ensure_all("natural_artificial_loss", "smoke", {**only, "seeds": [0, 1]}, **quiet)
    assert trained == [0, 1]
    assert t2["run_id"].iloc[0] == t1["run_id"].iloc[0] and len(t2) == 2



@pytest.mark.backend_free   # cache logic; one backend is enough
def test_a_shorter_constant_rate_run_is_read_from_the_longer_one(tiny_data, monkeypatch):
    """The profile asks for the same pattern at 1 and 3 epochs: only the
    3-epoch run trains, and the 1-epoch row is its first epoch."""
    monkeypatch.setattr(data, "load_data", lambda ds: tiny_data)
    trained = []
    real_fit = train.fit
    monkeypatch.setattr(train, "fit", lambda spec, d, **kw: (trained.append(spec["epochs"]),
                                                             real_fit(spec, d, **kw))[1])
    base = {"patterns": {"normal_lr1e-3": {"loss": "categorical_crossentropy",
                                           "learning_rate": 0.001}},
            "extra_seeds": {}, "seeds": [0], "epochs": 1}
    table = compute.ensure_all("natural_artificial_loss", "smoke", {
        **base, "long": {"patterns": ["normal_lr1e-3"], "epochs": 3, "seeds": [0]}},
        log=lambda s: None)
    assert trained == [3]
    short, long = (table[table["series"] == s].iloc[0] for s in ("article", "long"))
    assert short["run_id"] == long["run_id"] and (short["epochs"], long["epochs"]) == (1, 3)
    h = cache.load(paths.profile_dir("smoke") / "runs" / long["run_id"])["history"]
    assert short["final_test_accuracy"] == h["test_accuracy"].iloc[0]
    assert short["final_train_accuracy"] == h["accuracy"].iloc[0]
    assert short["train_images"] * 3 == long["train_images"]
    assert long["final_test_accuracy"] == h["test_accuracy"].iloc[-1]
    hist = compute.load_histories(table, "smoke")
    assert sorted(hist.groupby("series")["epoch"].max().items()) == [("article", 1), ("long", 3)]
    # --only picks runs by label; an unknown label is named
    only = compute.ensure_all("natural_artificial_loss", "smoke", {**base, "long": {
        "patterns": ["normal_lr1e-3"], "epochs": 3, "seeds": [0]}}, only={"series": "long"},
        log=lambda s: None)
    assert only["series"].tolist() == ["long"]
    with pytest.raises(params.ParamError, match="'colour'"):
        profiles.notebook_runs("natural_artificial_loss", "smoke", base, only={"colour": "red"})


@pytest.mark.backend_free
def test_metrics_at_an_epoch_are_those_of_the_shorter_run():
    hist = pd.DataFrame({"epoch": [1, 2, 3], "accuracy": [0.3, 0.5, 0.7],
                         "test_accuracy": [0.4, 0.6, 0.5], "train_seconds": [2.0, 2.0, 2.0],
                         "epoch_seconds": [3.0, 3.0, 3.0]})
    run = {"id": "x", "history": hist, "metrics": {
        "epochs": 3, "best_test_accuracy": 0.6, "best_epoch": 2, "final_test_accuracy": 0.5,
        "final_train_accuracy": 0.7, "train_images": 300, "train_seconds": 6.0,
        "wall_seconds": 9.0, "images_per_second": 50.0}}
    assert cache.metrics_at(run, None) is run["metrics"] and cache.metrics_at(run, 3) is run["metrics"]
    m = cache.metrics_at(run, 1)
    assert (m["epochs"], m["final_test_accuracy"], m["best_test_accuracy"]) == (1, 0.4, 0.4)
    assert (m["train_images"], m["train_seconds"], m["wall_seconds"]) == (100, 2.0, 3.0)
    assert cache.metrics_at(run, 2)["best_epoch"] == 2
    with pytest.raises(ValueError, match="cannot read epoch 4"):
        cache.metrics_at(run, 4)


@pytest.mark.backend_free
def test_only_values_are_read_as_yaml():
    assert cli._label_value("series=long") == ("series", "long")
    assert cli._label_value("budget=1") == ("budget", 1)
    assert cli._label_value("first_batch=true") == ("first_batch", True)
    with pytest.raises(params.ParamError, match="LABEL=VALUE"):
        cli._label_value("series")



# ------------------------------------------------------------------ concurrency
@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                    reason="once, in the TensorFlow pass (the smoke profile runs without XLA, "
                           "which JAX executes op by op)")
def test_two_processes_on_one_results_folder_train_each_run_once(tmp_path):
    """Two `compute` processes started together on the same folder: both exit
    0, and every epoch of every run is trained by exactly one of them."""
    if not os.environ.get("CIFAR10_PATH"):
        pytest.skip("needs the real CIFAR-10 (set CIFAR10_PATH)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "ABLATION_WAIT_POLL": "0.5"}
    cmd = [sys.executable, "-m", "lib", "compute", "natural_artificial_loss",
           "--profile", "smoke"]
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    trained = [tuple(m.groups()) for out in outs
               for m in re.finditer(r"^\[(\w{12})\] epoch (\d+)/", out, re.M)]
    _, planned = profiles.notebook_runs("natural_artificial_loss", "smoke")
    expected = {(spec_id(r["spec"]), str(e)) for r in planned
                for e in range(1, r["spec"]["epochs"] + 1)}
    assert sorted(trained) == sorted(expected)           # each epoch once, over both
    assert all(re.search(r"^\[\w{12}\] epoch", out, re.M) for out in outs), \
        "one process trained everything: they did not run together"
    for r in planned:
        d = cache.run_dir(r["spec"], "smoke")
        assert [h["epoch"] for h in runfiles.read_finished(d)[1]] == \
            list(range(1, r["spec"]["epochs"] + 1))


@pytest.mark.backend_free
def test_cpu_id_tells_hosts_of_one_name_apart(tmp_path):
    head = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: {f}\nmodel\t\t: {m}\n" \
           "model name\t: AMD EPYC\nflags\t\t: fpu sse2 {flags}\n\n"
    (tmp_path / "zen5").write_text(head.format(f=26, m=2, flags="avx avx2 avx512f avx512bw") * 2)
    (tmp_path / "zen2").write_text(head.format(f=23, m=49, flags="avx avx2"))
    (tmp_path / "arm").write_text("processor\t: 0\nBogoMIPS\t: 50.00\n")
    assert runfiles.cpu_id(tmp_path / "zen5") == "family 26 model 2 avx512"
    assert runfiles.cpu_id(tmp_path / "zen2") == "family 23 model 49 avx2"
    assert runfiles.cpu_id(tmp_path / "arm") is None
    assert runfiles.cpu_id(tmp_path / "missing") is None
    assert runfiles.cpu_model(tmp_path / "zen5") == "AMD EPYC"
    assert runfiles.cpu_model(tmp_path / "arm")        # falls back to what platform knows
    assert runfiles.host_text({"cpu": "AMD EPYC", "cpu_id": "family 26 model 2 avx512"}) == \
        "AMD EPYC family 26 model 2 avx512"
    assert runfiles.host_text({"cpu": "AMD EPYC"}) == "AMD EPYC"      # from before cpu_id


@pytest.mark.backend_free
def test_cli_xla_flag_overrides_the_profiles_jit_choice(monkeypatch):
    seen = []

    def fake_ensure_all(notebook, profile, overrides, **kw):
        seen.append(kw)
        return compute.pd.DataFrame()

    monkeypatch.setattr(compute, "ensure_all", fake_ensure_all)
    for flag in (["--xla", "off"], ["--xla", "on"], []):
        assert cli.main(["compute", "bc_learning", "--profile", "smoke", *flag]) == 0
    assert [kw.get("jit_compile") for kw in seen] == [False, True, None]
    with pytest.raises(SystemExit):
        cli.main(["compute", "bc_learning", "--profile", "smoke", "--xla", "maybe"])


def test_a_shorter_run_retraces_the_longer_and_is_retired(tiny_spec, tiny_data, tmp_path):
    """A run of E epochs under a length-free schedule is bit for bit the first
    E epochs of the same spec run longer: ``retire_prefixes`` finds it, checks
    that and removes it; a prefix whose history differs is kept and reported."""
    quiet = dict(data=tiny_data, jit_compile=False, log=lambda s: None)
    short = {**tiny_spec, "epochs": 2}
    cache.ensure(short, "smoke", **quiet)
    cache.ensure(tiny_spec, "smoke", **quiet)                       # 3 epochs
    assert cache.retire_prefixes("smoke", log=lambda s: None) == []  # a dry run keeps it
    assert cache.is_finished(cache.run_dir(short, "smoke"))
    # while both exist, the profile's row of the shorter length reads its own run
    row = read_prefixes([{"labels": {}, "spec": short}, {"labels": {}, "spec": tiny_spec}])[0]
    assert (row["spec"], row["at_epoch"]) == (tiny_spec, 2)
    assert compute.row_source(row, "smoke") == (short, None)

    history = cache.run_dir(short, "smoke") / "history.csv"
    good = history.read_text()
    rows = pd.read_csv(history).assign(test_accuracy=lambda h: h["test_accuracy"] + 1e-6)
    rows.to_csv(history, index=False)
    found = cache.retire_prefixes("smoke", delete=True, log=lambda s: None)
    assert found == [cache.PrefixMismatch(spec_id(short), spec_id(tiny_spec), "test_accuracy")]
    assert cache.is_finished(cache.run_dir(short, "smoke"))       # kept

    # once no profile row plans the shorter length, it is superseded: retraced or not
    said = []
    assert cache.retire_prefixes("smoke", planned=[tiny_spec], log=said.append) == []
    assert said == [f"{spec_id(short)}: no profile row reads it; its 2 epochs are read from "
                    f"{spec_id(tiny_spec)}"] and cache.is_finished(cache.run_dir(short, "smoke"))
    kept = tmp_path / "short"
    shutil.copytree(cache.run_dir(short, "smoke"), kept)
    assert cache.retire_prefixes("smoke", delete=True, planned=[tiny_spec],
                                 log=lambda s: None) == []
    assert not cache.run_dir(short, "smoke").exists()
    shutil.copytree(kept, cache.run_dir(short, "smoke"))
    # a row that still plans it keeps it (the mismatch is reported), as without ``planned``
    assert len(cache.retire_prefixes("smoke", delete=True, planned=[short, tiny_spec],
                                     log=lambda s: None)) == 1

    history.write_text(good)
    assert cache.retire_prefixes("smoke", delete=True, log=lambda s: None) == []
    assert not cache.run_dir(short, "smoke").exists()
    assert cache.is_finished(cache.run_dir(tiny_spec, "smoke"))
    # the retired length is read from the longer run, which stands in for it
    assert cache.stand_in(short, "smoke") == (tiny_spec, 2)
    assert compute.row_source(row, "smoke") == (tiny_spec, 2)     # retired: the longer run
    assert cache.stand_in(tiny_spec, "smoke") == (tiny_spec, None)
    assert cache.stand_in({**tiny_spec, "epochs": 5}, "smoke") is None

"""lib.runs: the run cache and its command line."""

import json

import pytest

from lib import data, runs, train


def test_run_is_written_then_loaded_from_cache(tiny_spec, tiny_data, monkeypatch):
    run = runs.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    d = runs.run_dir(tiny_spec, "smoke")
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
    # a cached run is never retrained
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("retrained a cached run"))
    again = runs.ensure(tiny_spec, "smoke", log=lambda s: None)
    assert again["metrics"] == m


# ------------------------------------------------------------------ parameters


def test_cli_list_and_bad_profile(tiny_spec, tiny_data, capsys):
    runs.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert runs.main(["list", "--profile", "smoke"]) == 0
    out = capsys.readouterr().out
    assert runs.spec_id(tiny_spec) in out and "finished" in out


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
    t1 = runs.ensure_all("natural_artificial_loss", "smoke", {**only, "seeds": [0]}, **quiet)
    t2 = runs.ensure_all("natural_artificial_loss", "smoke", {**only, "seeds": [0, 1]}, **quiet)
    assert trained == [0, 1]
    assert t2["run_id"].iloc[0] == t1["run_id"].iloc[0] and len(t2) == 2



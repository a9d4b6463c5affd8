import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib import params, runs, train
from lib.params import ParamError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _results(tmp_path, monkeypatch):
    monkeypatch.setenv("ABLATION_RESULTS_DIR", str(tmp_path / "results"))


def test_spec_id_is_canonical():
    a = {"x": 1, "y": {"b": 2, "a": 1}}
    b = {"y": {"a": 1, "b": 2}, "x": 1}
    assert runs.spec_id(a) == runs.spec_id(b)
    assert runs.spec_id(a) != runs.spec_id({**a, "x": 2})


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
    # a cached run is never retrained
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("retrained a cached run"))
    again = runs.ensure(tiny_spec, "smoke", log=lambda s: None)
    assert again["metrics"] == m


def test_tiny_model_learns(tiny_spec, tiny_data):
    spec = {**tiny_spec, "mixing": {"name": "none"}, "augment": {"standard_da": False},
            "batch_size": 8, "epochs": 4, "model": {"name": "cnn10", "width": 4, "bn_momentum": 0.5},
            "lr_schedule": {"name": "constant"}}
    run = runs.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["metrics"]["final_train_accuracy"] > 0.3      # chance is 0.1


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_each_epoch_once(tiny_spec, tiny_data):
    d = runs.run_dir(tiny_spec, "smoke")

    def stop_after(epoch):
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.fit(tiny_spec, d, data=tiny_data, jit_compile=False, log=lambda s: None,
                  after_epoch=stop_after)
    assert not runs.is_finished(d)
    assert json.loads((d / "checkpoint" / "state.json").read_text())["epochs_done"] == 2
    first_two = train.read_history(d / "history.csv")
    logs = []
    run = runs.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=logs.append)
    assert any("resuming after epoch 2/3" in s for s in logs)
    assert run["history"]["epoch"].tolist() == [1, 2, 3]
    assert run["history"].iloc[:2].to_dict("records") == first_two
    assert not (d / "checkpoint").exists()           # resume state is dropped when finished


def test_killed_process_resumes(tiny_spec, tiny_data, tmp_path):
    """SIGKILL a training process mid-run, then finish the run in this one."""
    spec = {**tiny_spec, "epochs": 30}
    d = runs.run_dir(spec, "smoke")
    script = tmp_path / "train.py"
    import numpy as np
    np.savez(tmp_path / "data.npz", *tiny_data)
    script.write_text(
        "import json, sys, numpy as np\n"
        "from lib import train\n"
        f"z = np.load({str(tmp_path / 'data.npz')!r})\n"
        "data = tuple(z[f'arr_{i}'] for i in range(4))\n"
        f"train.fit(json.loads({json.dumps(json.dumps(spec))}), {str(d)!r}, data=data, jit_compile=False)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = d / "checkpoint" / "state.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["epochs_done"] >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the training process ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(state.read_text())["epochs_done"]
    assert 2 <= done < 30 and not runs.is_finished(d)
    run = runs.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["history"]["epoch"].tolist() == list(range(1, 31))


def test_nan_loss_stops_with_clear_error_and_nothing_cached(tiny_spec, tiny_data):
    spec = {**tiny_spec, "optimizer": {"name": "sgd", "learning_rate": 1e30},
            "loss": {"name": "categorical_crossentropy"}}
    d = runs.run_dir(spec, "smoke")
    with pytest.raises(train.NonFiniteLossError, match="loss became"):
        runs.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert not runs.is_finished(d)


# ------------------------------------------------------------------ parameters
def _bc(**changes):
    P = params.load("bc_learning", "smoke")
    P = copy.deepcopy(P)
    for k, v in changes.items():
        P[k] = v
    return P


def test_profiles_load_and_paper_holds_the_articles_settings():
    P = params.load("bc_learning", "paper")
    assert P["epochs"] == 250 and P["model"] == {"name": "cnn10", "width": 64}
    assert P["optimizer"] == {"name": "adam", "learning_rate": 0.001}
    assert P["loss"]["name"] == "kl_divergence"
    assert P["lr_decay"] == {"milestones": [100, 150, 200], "factor": 0.2}
    table = {k: (c["mixing"], c["batch_size"], c.get("step_size"), c["lr_decay"], c["standard_da"])
             for k, c in P["cases"].items()}
    assert table == {0: ("none", 128, None, False, False), 1: ("bc", 128, 128, False, False),
                     2: ("bc", 1024, 128, False, False), 3: ("bc", 1024, 1024, False, False),
                     4: ("bc", 128, 128, True, False), 5: ("bc", 128, 128, True, True),
                     6: ("bc_plus", 128, 128, True, True)}
    for prof in ("smoke", "quick"):
        params.load("bc_learning", prof)


@pytest.mark.parametrize("change, message", [
    ({"cases": {9: {"mixing": "bc", "batch_size": 8, "lr_decay": False, "standard_da": False}}},
     "unknown case 9"),
    ({"cases": {1: {"mixing": "bc", "batch_size": 100, "step_size": 64, "lr_decay": False,
                    "standard_da": False}}}, "cases.1.batch_size"),
    ({"model": {"name": "vgg"}}, "model.name"),
    ({"epochs": 0}, "epochs"),
    ({"seeds": []}, "seeds"),
    ({"learning_rate": 0.1}, "unknown parameter"),
])
def test_bad_parameters_fail_before_training(change, message, monkeypatch):
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("trained"))
    from lib.experiments import bc_learning
    with pytest.raises(ParamError, match=message):
        bc_learning.validate(_bc(**change))


def test_unknown_profile_is_named():
    with pytest.raises(ParamError, match="no profile 'huge'"):
        params.load("bc_learning", "huge")


def test_profile_runs_have_one_spec_per_case_and_seed():
    from lib.experiments import bc_learning
    P = params.load("bc_learning", "quick")
    out = bc_learning.runs(P)
    labels = [(r["labels"]["case"], r["labels"]["seed"]) for r in out]
    assert (2, 1) not in labels and (2, 0) in labels          # case_seeds override
    assert len({runs.spec_id(r["spec"]) for r in out}) == len(out)
    s5 = bc_learning.case_spec(P, 5, 0)
    assert s5["mixing"] == {"name": "bc", "step_size": 128}
    assert s5["augment"]["standard_da"] and s5["lr_schedule"]["name"] == "step"


def test_cli_list_and_bad_profile(tiny_spec, tiny_data, capsys):
    runs.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert runs.main(["list", "--profile", "smoke"]) == 0
    out = capsys.readouterr().out
    assert runs.spec_id(tiny_spec) in out and "finished" in out


def test_raising_the_seed_count_trains_only_new_seeds(tiny_data, monkeypatch):
    monkeypatch.setattr(train, "load_data", lambda ds: tiny_data)
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


def test_natural_artificial_profiles():
    from lib.experiments import natural_artificial_loss as nat
    P = params.load("natural_artificial_loss", "paper")
    assert P["epochs"] == 100 and P["batch_size"] == 512 and P["model"]["width"] == 64
    out = nat.runs(P)
    per = {}
    for r in out:
        per[r["labels"]["pattern"]] = per.get(r["labels"]["pattern"], 0) + 1
    assert per == {"natural_hardmax": 5, "natural_softmax": 15, "multi_softmax": 5,
                   "normal_lr1e-3": 15, "normal_lr1e-2": 5}
    lr = {r["labels"]["pattern"]: r["spec"]["optimizer"]["learning_rate"] for r in out}
    assert lr["normal_lr1e-2"] == 0.01 and lr["natural_softmax"] == 0.001
    assert {r["spec"]["lr_schedule"]["name"] for r in out} == {"constant"}
    for prof in ("smoke", "quick"):
        params.load("natural_artificial_loss", prof)
    bad = dict(P, patterns={"natural_softmax": {"loss": "focal", "learning_rate": 0.001}})
    with pytest.raises(ParamError, match="patterns.natural_softmax.loss"):
        nat.validate(bad)
    with pytest.raises(ParamError, match="unknown pattern"):
        nat.validate(dict(P, patterns={"big": {"loss": "natural_softmax", "learning_rate": 0.1}}))


def test_mixed_precision_is_opt_in_recorded_and_restored(tiny_spec, tiny_data):
    import keras

    spec = {**tiny_spec, "mixing": {"name": "none"}, "augment": {"standard_da": False},
            "batch_size": 8, "epochs": 2, "model": {"name": "cnn10", "width": 4, "bn_momentum": 0.5},
            "lr_schedule": {"name": "constant"}}
    run = runs.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None,
                      mixed_precision=True)
    assert run["metrics"]["dtype_policy"] == "mixed_bfloat16"
    assert run["metrics"]["final_train_accuracy"] > 0.2       # still learns (chance 0.1)
    assert keras.config.dtype_policy().name == "float32"     # the global policy is put back
    plain = runs.ensure({**spec, "seed": 1}, "smoke", data=tiny_data, jit_compile=False,
                        log=lambda s: None)
    assert plain["metrics"]["dtype_policy"] == "float32"

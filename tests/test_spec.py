"""lib.spec: the base spec, differences from it, and run ids that stay put."""

import json
from pathlib import Path

import pytest

from lib import experiments, params
from lib.spec import BASE, OPTIONAL, SpecError, make_spec, setting, spec_id

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free

REPO = Path(__file__).resolve().parent.parent
P = {"notebook": "nb", "dataset": {"train_subset": 100}, "model": {"name": "cnn10", "width": 4},
     "epochs": 2, "batch_size": 8}


def test_spec_id_is_canonical():
    a = {"x": 1, "y": {"b": 2, "a": 1}}
    b = {"y": {"a": 1, "b": 2}, "x": 1}
    assert spec_id(a) == spec_id(b)
    assert spec_id(a) != spec_id({**a, "x": 2})
    assert len(spec_id(a)) == 12


def test_make_spec_starts_from_the_base_and_takes_the_profiles_shared_settings():
    s = make_spec(P, 3)
    assert set(s) == set(BASE)
    assert s["dataset"] == {"name": "cifar10", "train_subset": 100}
    assert s["model"] == P["model"] and s["model"] is not P["model"]   # a copy
    assert (s["epochs"], s["batch_size"], s["seed"]) == (2, 8, 3)
    assert s["optimizer"] == BASE["optimizer"] and s["mixing"] == {"name": "none"}


def test_changes_merge_into_base_sections_and_replace_everything_else():
    s = make_spec(P, 0, optimizer={"learning_rate": 0.01}, loss={"name": "kl_divergence"},
                  model={"name": "resnet_v1", "depth": 20}, input="pixel_mean")
    assert s["optimizer"] == {"name": "adam", "learning_rate": 0.01}   # still Adam
    assert s["loss"] == {"name": "kl_divergence"}
    assert s["model"] == {"name": "resnet_v1", "depth": 20}           # replaced, not merged
    assert s["input"] == "pixel_mean"
    assert make_spec(P, 0, mixing={}) == make_spec(P, 0)              # an empty change is none
    assert BASE["optimizer"] == {"name": "adam", "learning_rate": 1e-3}   # BASE untouched


def test_unknown_or_missing_keys_are_named():
    with pytest.raises(SpecError, match="unknown spec key 'lr'"):
        make_spec(P, 0, lr=0.1)
    with pytest.raises(SpecError, match=r"lacks \['model'\]"):
        make_spec({k: v for k, v in P.items() if k != "model"}, 0)


def test_optional_settings_read_their_default_once():
    s = make_spec(P, 0)
    assert setting(s, "augment.max_shift") == OPTIONAL["augment.max_shift"] == 4
    assert setting(s, "input") == "unit"
    assert setting(make_spec(P, 0, augment={"max_shift": 2}), "augment.max_shift") == 2
    assert setting(make_spec(P, 0, mixing={"name": "mixup", "alpha": 1.0}), "mixing.alpha") == 1.0
    with pytest.raises(KeyError, match="not an optional setting"):
        setting(s, "augment.standard_da")


def _committed_runs():
    return sorted(d for d in REPO.glob("results/*/runs/*") if (d / "spec.json").exists())


def test_committed_runs_exist_to_be_checked():
    assert len(_committed_runs()) >= 96     # the quick profile's runs at least


@pytest.mark.parametrize("profile", sorted({d.parent.parent.name for d in _committed_runs()}))
def test_every_committed_run_keeps_its_id(profile):
    """The current code, from the committed profile, defines exactly the spec
    each committed run was trained with: no refactor invalidates a cached run."""
    dirs = [d for d in _committed_runs() if d.parent.parent.name == profile]
    by_notebook: dict = {}
    for d in dirs:
        spec = json.loads((d / "spec.json").read_text())
        assert spec_id(spec) == d.name, f"{d} holds a spec whose id is {spec_id(spec)}"
        by_notebook.setdefault(spec["notebook"], set()).add(d.name)
    for notebook, ids in by_notebook.items():
        P_ = params.load(notebook, profile)
        defined = {spec_id(r["spec"]) for r in experiments.get(notebook).runs(P_)}
        assert ids <= defined, (f"{notebook}/{profile}: committed runs the current code does "
                                f"not define: {sorted(ids - defined)}")

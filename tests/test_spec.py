"""lib.spec: the base spec, differences from it, and run ids that stay put."""

import json
from pathlib import Path

import pytest

from lib.campaign import experiments, profiles
from lib.training.spec import (BASE, OPTIONAL, SpecError, is_prefix, make_spec, read_prefixes, setting,
                      spec_id)

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


def test_a_profiles_precision_enters_the_spec_only_when_not_float32():
    assert "precision" not in make_spec({**P, "precision": "float32"}, 0)   # float32 ids unchanged
    bf16 = make_spec({**P, "precision": "mixed_bfloat16"}, 0)
    assert bf16["precision"] == setting(bf16, "precision") == "mixed_bfloat16"
    assert spec_id(bf16) != spec_id(make_spec(P, 0))


def _committed_runs():
    return sorted(d for d in REPO.glob("results/*/runs/*") if (d / "spec.json").exists())


def test_committed_runs_exist_to_be_checked():
    assert len([d for d in _committed_runs() if d.parent.parent.name == "budget"]) >= 96


@pytest.mark.parametrize("profile", sorted({d.parent.parent.name for d in _committed_runs()}))
def test_every_committed_run_keeps_its_id(profile):
    """The current code, from the committed profile, defines exactly the spec
    each committed run was trained with: no refactor invalidates a cached run."""
    dirs = [d for d in _committed_runs() if d.parent.parent.name == profile]
    by_notebook: dict = {}
    for d in dirs:
        spec = json.loads((d / "spec.json").read_text())
        assert spec_id(spec) == d.name, f"{d} holds a spec whose id is {spec_id(spec)}"
        by_notebook.setdefault(spec["notebook"], {})[d.name] = spec
    for notebook, committed in by_notebook.items():
        planned = profiles.planned_specs(notebook, profile)
        defined = {spec_id(s) for s in planned}
        # a run the profile now reads from a longer one stays until that one is committed
        awaiting = {rid for rid, s in committed.items()
                    if any(is_prefix(s, o) and spec_id(o) not in committed for o in planned)}
        undefined = set(committed) - defined - awaiting
        assert not undefined, (f"{notebook}/{profile}: committed runs the current code does "
                               f"not define: {sorted(undefined)}")


def _finished_specs(profile):
    return {d.name: json.loads((d / "spec.json").read_text()) for d in _committed_runs()
            if d.parent.parent.name == profile and (d / "metrics.json").exists()}


@pytest.mark.parametrize("profile", sorted({d.parent.parent.name for d in _committed_runs()}))
def test_no_committed_run_is_the_prefix_of_another(profile):
    """A length a longer run passes through is read from it, so its own run
    directory is dropped once the longer one is committed."""
    specs = _finished_specs(profile)
    prefixes = [(a, b) for a, sa in specs.items() for b, sb in specs.items() if is_prefix(sa, sb)
                and _cpu(profile, a) == _cpu(profile, b)]
    assert not prefixes, f"{profile}: runs that are the first epochs of a longer one: {prefixes}"


def _cpu(profile, run_id):
    """The processor kind a run trained on. Another kind's kernels round
    differently, so a run there does not retrace one trained here (measured: a
    3-epoch ResNet step run on AVX-512 and the 30-epoch one on AVX2 differ by a
    point of test accuracy at epoch 3); such a pair is two runs, both kept."""
    metrics = json.loads((REPO / "results" / profile / "runs" / run_id / "metrics.json").read_text())
    return metrics.get("cpu_id"), metrics.get("backend"), metrics.get("device")


def test_the_budget_campaigns_run_ids_are_pinned():
    """The budget profile's runs (the campaign trains them from a fixed commit
    while the code moves on): the current code must define the same ids."""
    pinned = json.loads((REPO / "tests" / "budget_run_ids.json").read_text())
    for notebook, ids in pinned.items():
        planned = read_prefixes(experiments.get(notebook).runs(profiles.load(notebook, "budget")))
        assert sorted({spec_id(r["spec"]) for r in planned}) == ids, notebook


def test_a_prefix_is_the_same_run_shorter_under_a_length_free_schedule():
    short, long = make_spec(P, 0), make_spec(P, 0, epochs=6)
    assert is_prefix(short, long) and not is_prefix(long, short) and not is_prefix(short, short)
    assert not is_prefix(short, make_spec(P, 1, epochs=6))                    # another seed
    assert not is_prefix(short, make_spec(P, 0, epochs=6, batch_size=16))     # another recipe
    step = {"name": "step", "milestones": [1.5], "factor": 0.2}
    assert is_prefix(make_spec(P, 0, lr_schedule=step), make_spec(P, 0, lr_schedule=step, epochs=6))
    cosine = {"name": "cosine"}     # spans the whole run: a shorter one decays sooner
    assert not is_prefix(make_spec(P, 0, lr_schedule=cosine),
                         make_spec(P, 0, lr_schedule=cosine, epochs=6))


def test_read_prefixes_points_each_shorter_run_at_the_longest_one():
    rows = [{"labels": {"e": e, "seed": s}, "spec": make_spec(P, s, epochs=e)}
            for e in (2, 4, 8) for s in (0, 1)] + \
           [{"labels": {"e": 3, "seed": 0}, "spec": make_spec(P, 0, epochs=3, batch_size=16)}]
    out = read_prefixes(rows)
    assert [r["labels"] for r in out] == [r["labels"] for r in rows]      # every row kept
    for r, o in zip(rows, out):
        if r["spec"]["epochs"] < 8 and r["spec"]["batch_size"] == 8:
            assert o["spec"] == make_spec(P, r["labels"]["seed"], epochs=8)
            assert o["at_epoch"] == r["spec"]["epochs"]
        else:
            assert o == r and "at_epoch" not in o

"""training_tricks: profiles, parameter checks and one change per trick."""

import pytest

from lib.campaign import params, profiles
from lib.training.spec import spec_id
from lib.campaign.experiments import training_tricks as exp

from conftest import changed_settings

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


def test_profiles_give_every_trick_and_architecture():
    P = profiles.load("training_tricks", "budget")
    rs = [r for r in exp.runs(P) if r["labels"]["series"] == "article"]
    tricks = {r["labels"]["trick"] for r in rs}
    assert tricks == set(exp.TRICKS) | {"architecture"}
    assert len(rs) == len(exp.TRICKS) * len(P["seeds"]) + len(P["architectures"]) * len(P["arch_seeds"])
    specs = {(r["labels"]["trick"], r["labels"]["seed"]): r["spec"] for r in rs}
    base = specs[("baseline", 0)]
    # every trick changes exactly one part of the baseline recipe
    for trick in exp.TRICKS:
        diff = {k for k in set(base) | set(specs[(trick, 0)])
                if base.get(k) != specs[(trick, 0)].get(k)}
        assert len(diff) <= (2 if trick == "kl_divergence" else 1), (trick, diff)
    assert specs[("random_erasing", 0)]["augment"]["keras_da"]["erasing"]["probability"] == 0.5
    assert specs[("label_smoothing_0.2", 0)]["loss"]["label_smoothing"] == 0.2
    assert len({spec_id(s) for s in specs.values()}) == len(specs)


def test_budget_profile_scales_width_epochs_patience_and_seeds_only():
    P, B = (profiles.load("training_tricks", p) for p in ("paper", "budget"))
    arch = {k for k in changed_settings(P, B) if k.startswith("architectures.")}
    assert changed_settings(P, B) - arch == {"profile", "model.width", "model.bn_momentum", "epochs",
                                             "plateau.patience", "seeds", "decayed", "long"}
    # short runs: every model's test-time BatchNorm statistics follow the weights faster
    assert {m.get("bn_momentum") for m in [B["model"], *B["architectures"].values()]} == {0.9}
    assert set(B["seeds"]) < set(P["seeds"]) and len(B["seeds"]) >= 3
    assert B["epochs"] < P["epochs"] and B["plateau"]["patience"] <= P["plateau"]["patience"]
    # full training and test sets, with the same held-out validation images
    assert (B["dataset"]["train_subset"], B["dataset"]["test_subset"]) == (None, None)
    assert B["dataset"]["val_subset"] == P["dataset"]["val_subset"]
    # the architecture study keeps its shape: cnn10 at half the baseline's width, ResNet-20
    for prof in (P, B):
        cnn = [m for m in prof["architectures"].values() if m["name"] == "cnn10"]
        assert [m["width"] for m in cnn] == [prof["model"]["width"] // 2]
        assert {k: v for k, v in prof["architectures"]["resnet20_v1"].items()
                if k != "bn_momentum"} == {"name": "resnet_v1", "depth": 20}


@pytest.mark.parametrize("change, message", [
    ({"label_smoothing": [1.2]}, "label_smoothing"),
    ({"erasing": {"probability": 2.0}}, "erasing.probability"),
    ({"dataset": {"train_subset": 100}}, "val_subset"),
    ({"plateau": {"patience": 1, "bogus": 2}}, "bogus"),
    ({"architectures": {"big": {"name": "nope"}}}, "model.name"),
])
def test_bad_training_tricks_parameters_are_named(change, message):
    with pytest.raises(params.ParamError, match=message):
        profiles.load("training_tricks", "smoke", change)



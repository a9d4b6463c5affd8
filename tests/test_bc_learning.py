"""bc_learning: profiles, parameter checks and the runs they define."""

import copy

import pytest

from lib.campaign import params, profiles
from lib.training import train
from lib.training.spec import spec_id
from lib.campaign.params import ParamError
from conftest import changed_settings


def _bc(**changes):
    P = profiles.load("bc_learning", "smoke")
    P = copy.deepcopy(P)
    for k, v in changes.items():
        P[k] = v
    return P


def test_profiles_load_and_paper_holds_the_articles_settings():
    P = profiles.load("bc_learning", "paper")
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
    for prof in ("smoke", "budget"):
        profiles.load("bc_learning", prof)


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
    from lib.campaign.experiments import bc_learning
    with pytest.raises(ParamError, match=message):
        bc_learning.validate(_bc(**change))


def test_profile_runs_have_one_spec_per_case_and_seed():
    from lib.campaign.experiments import bc_learning
    P = profiles.load("bc_learning", "budget")
    out = [r for r in bc_learning.runs(P) if r["labels"]["series"] == "article"]
    labels = [(r["labels"]["case"], r["labels"]["seed"]) for r in out]
    assert (2, 1) not in labels and (2, 0) in labels          # case_seeds override
    assert len({spec_id(r["spec"]) for r in out}) == len(out)
    s5 = bc_learning.case_spec(P, 5, 0)
    assert s5["mixing"] == {"name": "bc", "step_size": 128}
    assert s5["augment"]["standard_da"] and s5["lr_schedule"]["name"] == "step"


def test_budget_profile_changes_only_width_bn_momentum_epochs_milestones_and_seeds():
    P, B = (profiles.load("bc_learning", p) for p in ("paper", "budget"))
    assert changed_settings(P, B) == {
        "profile", "model.width", "model.bn_momentum", "epochs", "lr_decay.milestones",
        "case_seeds", "decayed", "long"}
    assert B["model"]["bn_momentum"] == 0.9
    # the milestones stay at the article's fractions of training
    frac = lambda Q: [m / Q["epochs"] for m in Q["lr_decay"]["milestones"]]
    assert frac(B) == pytest.approx(frac(P))


def test_speed_keys_do_not_depend_on_bn_momentum_or_the_schedule():
    """BatchNorm's momentum does not change what a training step computes, so
    a stored speed (check, plan, calibration: one key) stays valid when only
    it, the length or the schedule changes."""
    from lib.campaign.experiments import bc_learning
    from lib.training.spec import configuration
    spec = bc_learning.case_spec(profiles.load("bc_learning", "budget"), 0, 0)
    at = lambda **m: configuration({**spec, "model": {**spec["model"], **m}})
    assert configuration({**spec, "epochs": 48, "seed": 3, "lr_schedule": {"name": "cosine"}}) \
        == configuration(spec)
    assert at(bn_momentum=0.99) == at(bn_momentum=0.9)
    assert at(width=24) != at(width=16)
    assert spec["model"]["bn_momentum"] == 0.9          # the key drops it, the spec keeps it


def test_budget_profile_has_the_article_cases_a_decayed_pair_and_a_long_pair():
    from lib.campaign.experiments import bc_learning
    from lib.training.spec import read_prefixes
    P = profiles.load("bc_learning", "budget")
    out = bc_learning.runs(P)
    series = lambda name: [r for r in out if r["labels"]["series"] == name]   # noqa: E731
    main, decayed, long = series("article"), series("decayed"), series("long")
    assert len(main) + len(decayed) + len(long) == len(out)
    assert {r["spec"]["dataset"].get("train_subset") for r in out} == {None}   # full data
    assert {r["spec"]["epochs"] for r in main + decayed} == {P["epochs"]}
    seeds = lambda rows, case: sorted(r["labels"]["seed"] for r in rows   # noqa: E731
                                      if r["labels"]["case"] == case)
    assert seeds(main, 0) == seeds(main, 1) == P["case_seeds"][0]
    assert seeds(main, 4) == P["seeds"]
    # decayed: case 0 and case 1 with the article's decay, paired on 6 seeds; case 1
    # decayed is the article's case 4, the same runs
    assert seeds(decayed, 0) == seeds(decayed, 1) == [0, 1, 2, 3, 4, 5]
    for r in decayed:
        assert r["spec"]["lr_schedule"] == {"name": "step", **P["lr_decay"]}
    case4 = {spec_id(r["spec"]) for r in main if r["labels"]["case"] == 4}
    assert case4 <= {spec_id(r["spec"]) for r in decayed if r["labels"]["case"] == 1}
    # long: the article's constant-rate recipe for 48 epochs on 3 seeds
    assert seeds(long, 0) == seeds(long, 1) == [0, 1, 2]
    assert {(r["spec"]["epochs"], r["spec"]["lr_schedule"]["name"]) for r in long} == \
        {(48, "constant")}
    # the 4-epoch runs of those seeds are read from the 48-epoch ones, never trained
    read = read_prefixes(out)
    for r, o in zip(out, read):
        if r["labels"]["series"] == "article" and r["labels"]["case"] in (0, 1) \
                and r["labels"]["seed"] < 3:
            assert o["spec"]["epochs"] == 48 and o["at_epoch"] == P["epochs"]
        else:
            assert o is r
    # the decay milestones keep the article's fractions of training (0.4/0.6/0.8)
    s4 = bc_learning.case_spec(P, 4, 0)["lr_schedule"]
    assert [m / P["epochs"] for m in s4["milestones"]] == pytest.approx([0.4, 0.6, 0.8])
    # the costly case 2 (8x the images per epoch) comes after every other main run
    order = [r["labels"]["case"] for r in main]
    assert order.index(2) == len(main) - 1


@pytest.mark.parametrize("bf, message", [
    ({"cases": [9], "fractions": [0.5]}, "budget_fractions.cases"),
    ({"cases": [0], "fractions": [0.3]}, "whole epochs"),
    ({"cases": [0], "fractions": [1.0]}, "other than 1"),
    ({"cases": [0], "fractions": [0]}, "other than 1"),
    ({"cases": [0], "fractions": [2.1]}, "whole epochs"),
    ({"cases": [0], "fractions": ["2"]}, "a multiple of"),
    ({"cases": [0], "fractions": [0.5], "extra": 1}, "unknown parameter"),
    ({"cases": [0], "fractions": [0.5], "seeds": []}, "budget_fractions.seeds"),
    ({"cases": [0], "fractions": [0.5], "seeds": [0.5]}, "budget_fractions.seeds"),
])
def test_bad_budget_fractions_are_named(bf, message):
    with pytest.raises(ParamError, match=message):
        profiles.load("bc_learning", "budget", {"budget_fractions": bf})


def test_a_budget_fraction_above_one_stretches_the_recipe():
    from lib.campaign.experiments import bc_learning
    P = profiles.load("bc_learning", "budget")
    P = profiles.load("bc_learning", "budget", {"budget_fractions": {
        "cases": [0, 1], "fractions": [0.5, 4]}})
    long = [r for r in bc_learning.runs(P) if r["labels"]["budget"] == 4]
    assert {r["labels"]["case"] for r in long} == {0, 1}
    assert {r["spec"]["epochs"] for r in long} == {4 * P["epochs"]}
    # a decayed case at 4x keeps its milestones at the same fractions of training
    stretched = params.at_budget(P, 4, "lr_decay")
    assert [m / stretched["epochs"] for m in stretched["lr_decay"]["milestones"]] == \
        pytest.approx([m / P["epochs"] for m in P["lr_decay"]["milestones"]])


def test_case_labels_name_what_each_case_changes():
    from lib.campaign.experiments import bc_learning
    labels = bc_learning.case_labels(profiles.load("bc_learning", "budget"))
    assert labels[0] == "no BC" and labels[1] == "BC" and labels[4] == "BC + LR decay"
    assert labels[2] == "BC, batch 1024 / step 128" and labels[5] == "BC + LR decay + DA"
    assert labels[6] == "BC+ + LR decay + DA"

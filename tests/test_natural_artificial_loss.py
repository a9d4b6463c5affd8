"""natural_artificial_loss: profiles, patterns and parameter checks."""

import pytest

from lib.campaign import profiles
from lib.campaign.params import ParamError

from conftest import changed_settings

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


def test_natural_artificial_profiles():
    from lib.campaign.experiments import natural_artificial_loss as nat
    P = profiles.load("natural_artificial_loss", "paper")
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
    for prof in ("smoke", "budget"):
        profiles.load("natural_artificial_loss", prof)
    bad = dict(P, patterns={"natural_softmax": {"loss": "focal", "learning_rate": 0.001}})
    with pytest.raises(ParamError, match="patterns.natural_softmax.loss"):
        nat.validate(bad)
    with pytest.raises(ParamError, match="unknown pattern"):
        nat.validate(dict(P, patterns={"big": {"loss": "natural_softmax", "learning_rate": 0.1}}))


def test_budget_profile_is_the_articles_recipe_narrower_shorter_and_paired():
    from lib.campaign.experiments import natural_artificial_loss as nat
    P, B = (profiles.load("natural_artificial_loss", p) for p in ("paper", "budget"))
    # same patterns, batch, optimizer and data (all of it); only width, epochs,
    # the test-time BatchNorm statistics' momentum and the number of extra seeds differ;
    # the decayed and long series are added beside the article's runs
    assert changed_settings(P, B) == {"profile", "model.width", "model.bn_momentum", "epochs",
                                      "extra_seeds.natural_softmax", "extra_seeds.normal_lr1e-3",
                                      "decayed", "long"}
    assert {r["spec"]["lr_schedule"]["name"] for r in nat.runs(B)
            if r["labels"]["series"] == "article"} == {"constant"}
    long = [r for r in nat.runs(B) if r["labels"]["series"] == "long"]
    assert {(r["labels"]["pattern"], r["spec"]["epochs"]) for r in long} == {
        ("natural_softmax", 30), ("normal_lr1e-3", 30)}
    assert B["model"]["bn_momentum"] == 0.9
    assert B["dataset"]["train_subset"] is None and B["dataset"]["test_subset"] is None
    seeds = {}
    for r in (r for r in nat.runs(B) if r["labels"]["series"] == "article"):
        seeds.setdefault(r["labels"]["pattern"], set()).add(r["labels"]["seed"])
    # the article's 15-run pair is compared on identical seeds, more than the others
    assert seeds["natural_softmax"] == seeds["normal_lr1e-3"]
    assert all(len(s) >= 5 for s in seeds.values())
    assert len(seeds["natural_softmax"]) > len(seeds["multi_softmax"])

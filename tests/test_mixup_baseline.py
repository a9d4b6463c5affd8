import pytest

from lib.campaign import profiles
from lib.campaign.experiments import mixup_baseline as exp
from lib.campaign.params import ParamError
from lib.training.schedules import EpochSchedule

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


def test_example_learning_rate_schedule():
    P = profiles.load("mixup_baseline", "paper")
    sched = exp.alpha_spec(P, 0.2, 0)["lr_schedule"]
    lrs = [EpochSchedule(sched, 1e-3).rate(e) for e in (0, 80, 81, 120, 121, 161, 181, 199)]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-6, 5e-7, 5e-7])


def test_profiles():
    P = profiles.load("mixup_baseline", "paper")
    assert (P["epochs"], P["batch_size"], P["learning_rate"]) == (200, 32, 0.001)
    specs = {(r["labels"]["alpha"], r["labels"]["seed"]): r["spec"] for r in exp.runs(P)}
    assert specs[(0.0, 0)]["mixing"] == {"name": "none"}
    assert specs[(0.2, 0)]["mixing"] == {"name": "mixup", "alpha": 0.2}
    assert specs[(0.2, 0)]["augment"]["keras_da"] == {"shift": 0.1, "flip": True}
    assert specs[(0.2, 0)]["input"] == "pixel_mean"
    q = exp.runs(dict(P, seeds=[0, 1], sweep_seeds=[0]))
    labels = [(r["labels"]["alpha"], r["labels"]["seed"]) for r in q]
    assert (0.2, 1) in labels and (0.4, 1) not in labels     # sweep_seeds for the extra alphas
    profiles.load("mixup_baseline", "smoke")
    with pytest.raises(ParamError, match="alphas"):
        exp.validate(dict(P, alphas=[-1]))
    with pytest.raises(ParamError, match="multipliers"):
        exp.validate(dict(P, lr_schedule={"milestones": [1, 2], "multipliers": [0.1]}))


def test_budget_profile_compresses_the_example_schedule_to_each_budget():
    P = profiles.load("mixup_baseline", "budget")
    out = exp.runs(P)
    long = P["long"]["epochs"] / P["epochs"]
    assert {(r["labels"]["alpha"], r["labels"]["budget"]) for r in out} == {
        (a, f) for a in (0.0, 0.2) for f in P["budget_fractions"]["fractions"] + [1.0, long]}
    assert {r["spec"]["epochs"] for r in out} == {1, 2, 3, 6, 15}
    assert {r["labels"]["series"] for r in out if r["labels"]["budget"] == long} == {"long"}
    # the example's DA in the pipeline, so that XLA can compile the model
    assert {str(r["spec"]["augment"]) for r in out} == {
        str({"standard_da": False, "shift_after_mixing": 3})}
    for r in out:   # every length decays at the example's fractions: each is its own run
        sched, epochs = r["spec"]["lr_schedule"], r["spec"]["epochs"]
        assert [m / epochs for m in sched["milestones"]] == pytest.approx([0.4, 0.6, 0.8, 0.9])
    seeds = {(r["labels"]["alpha"], r["labels"]["budget"]): [] for r in out}
    for r in out:
        seeds[r["labels"]["alpha"], r["labels"]["budget"]].append(r["labels"]["seed"])
    for (alpha, budget), s in seeds.items():   # paired at every budget
        expected = P["seeds"] if budget == 1.0 else P["long"]["seeds"] if budget == long \
            else P["budget_fractions"]["seeds"]
        assert sorted(s) == expected


def test_shorter_budgets_can_run_on_fewer_seeds():
    P = profiles.load("mixup_baseline", "budget")
    P = dict(P, budget_fractions={**P["budget_fractions"], "seeds": [1]})
    exp.validate(P)
    out = exp.runs(P)
    full = {r["labels"]["seed"] for r in out if r["labels"]["budget"] == 1.0}
    short = {r["labels"]["seed"] for r in out
             if r["labels"]["budget"] != 1.0 and r["labels"]["series"] == "article"}
    assert full == set(P["seeds"]) and short == {1}

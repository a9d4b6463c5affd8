"""BC-learning ablation (the article: docs/articles.md#bc_learning).

Cases 0-5 are the article's table; case 6 (BC+, the BC paper's mixing for
images) is ours. A profile lists the cases with their batch size, step size,
learning-rate decay and standard-DA switch; everything shared (model, loss,
optimizer, epochs, data subset) sits at its top level.
"""

from __future__ import annotations

from ..params import (ParamError, at_budget, check_budget_fractions, check_known, check_model,
                      check_positive, check_seeds, check_series, require)
from ...training.vocabulary import MIXINGS
from ...training.spec import make_spec

NOTEBOOK = "bc_learning"

#: The article's test accuracy per case (single runs, TPU, pristine CIFAR-10).
ARTICLE = {0: 0.8935, 1: 0.9118, 2: 0.9074, 3: 0.8985, 4: 0.9173, 5: 0.9459, 6: None}

CASE_KEYS = {"mixing", "batch_size", "step_size", "lr_decay", "standard_da"}
TOP_KEYS = {"model", "dataset", "optimizer", "loss", "epochs", "lr_decay", "max_shift",
            "seeds", "cases", "case_seeds", "budget_fractions", "decayed", "long", "runtime"}


def validate(P: dict) -> None:
    check_known(P, TOP_KEYS)
    check_model(P)
    check_positive(P, "epochs", "max_shift")
    check_seeds(require(P, "seeds", list))
    require(P, "optimizer", dict)
    require(P, "loss", dict)
    decay = require(P, "lr_decay", dict)
    if not all(0 < m for m in decay.get("milestones", [])):
        raise ParamError(f"parameter 'lr_decay.milestones' = {decay.get('milestones')} "
                         "must be positive epochs")
    cases = require(P, "cases", dict)
    if not cases:
        raise ParamError("parameter 'cases' is empty")
    for case, c in cases.items():
        where = f"cases.{case}."
        if case not in ARTICLE:
            raise ParamError(f"unknown case {case!r} in parameter 'cases'; known cases: "
                             f"{sorted(ARTICLE)}")
        bad = set(c) - CASE_KEYS
        if bad:
            raise ParamError(f"unknown key(s) {sorted(bad)} in parameter 'cases.{case}'")
        mixing = require(c, "mixing", str, where)
        if mixing not in MIXINGS:
            raise ParamError(f"parameter '{where}mixing' = {mixing!r}; expected one of {MIXINGS}")
        batch = require(c, "batch_size", int, where)
        step = c.get("step_size") or batch
        if mixing == "none" and step != batch:
            raise ParamError(f"parameter '{where}step_size' only applies to BC mixing")
        if step < 1 or batch % step:
            raise ParamError(f"parameter '{where}batch_size' = {batch} is not a multiple of "
                             f"'{where}step_size' = {step}")
        require(c, "lr_decay", bool, where)
        require(c, "standard_da", bool, where)
    for case, s in (P.get("case_seeds") or {}).items():
        if case not in cases:
            raise ParamError(f"parameter 'case_seeds' names case {case!r}, which is not in 'cases'")
        check_seeds(s, f"case_seeds.{case}")
    check_budget_fractions(P, "cases", cases)
    check_series(P, "cases", cases)
    if "lr_schedule" in (P.get("decayed") or {}):
        raise ParamError("parameter 'decayed.lr_schedule': the decayed cases use the profile's "
                         "'lr_decay' (the article's own decay), so it takes no schedule")


def batch_step(c: dict) -> str:
    """A case's batch and step size in words."""
    return f"batch {c['batch_size']} / step {c.get('step_size') or c['batch_size']}"


def case_labels(P: dict) -> dict:
    """Case -> what it is, named by what it changes: the mixing, batch / step
    where not the base ones, the decay, DA."""
    base = min(c["batch_size"] for c in P["cases"].values())

    def label(c):
        other = c["batch_size"] != base or (c.get("step_size") or c["batch_size"]) != c["batch_size"]
        return ({"none": "no BC", "bc": "BC", "bc_plus": "BC+"}[c["mixing"]]
                + (", " + batch_step(c) if other else "") + (" + LR decay" if c["lr_decay"] else "")
                + (" + DA" if c["standard_da"] else ""))
    return {k: label(c) for k, c in P["cases"].items()}


def case_spec(P: dict, case: int, seed: int, *, decayed: bool = False) -> dict:
    """Case ``case`` as the profile defines it; ``decayed`` adds the profile's
    learning-rate decay (case 1 decayed is case 4)."""
    c = P["cases"][case]
    changes = {"loss": P["loss"], "optimizer": P["optimizer"], "batch_size": c["batch_size"],
               "mixing": {"name": c["mixing"]},
               "augment": {"standard_da": c["standard_da"], "max_shift": P["max_shift"]}}
    if c["mixing"] != "none":
        changes["mixing"]["step_size"] = c.get("step_size") or c["batch_size"]
    if c["lr_decay"] or decayed:
        changes["lr_schedule"] = {"name": "step", **P["lr_decay"]}
    return make_spec(P, seed, **changes)


def runs(P: dict) -> list[dict]:
    """Every case on its seeds (``budget`` 1.0, series ``article``), then the
    ``budget_fractions`` cases again at other budgets, on the same seeds or on
    ``budget_fractions.seeds``; then the ``decayed`` cases with the profile's
    decay (series ``decayed``) and the ``long`` cases (series ``long``)."""
    out = []
    case_seeds = P.get("case_seeds") or {}
    bf = P.get("budget_fractions") or {"cases": [], "fractions": []}
    for case in sorted(P["cases"]):
        budgets = [1.0] + (sorted(bf["fractions"]) if case in bf["cases"] else [])
        for budget in budgets:
            Pb = at_budget(P, budget, "lr_decay")
            seeds = case_seeds.get(case, P["seeds"])
            for seed in seeds if budget == 1.0 else bf.get("seeds", seeds):
                out.append({"labels": {"case": case, "seed": seed, "budget": budget,
                                       "epochs": Pb["epochs"], "series": "article"},
                            "spec": case_spec(Pb, case, seed)})
    decayed = P.get("decayed") or {"cases": []}
    for case in decayed["cases"]:
        for seed in decayed["seeds"]:
            out.append({"labels": {"case": case, "seed": seed, "budget": 1.0,
                                   "epochs": P["epochs"], "series": "decayed"},
                        "spec": case_spec(P, case, seed, decayed=True)})
    long = P.get("long") or {"cases": []}
    for case in long["cases"]:
        budget = long["epochs"] / P["epochs"]
        Pb = at_budget(P, budget, "lr_decay")
        for seed in long["seeds"]:
            out.append({"labels": {"case": case, "seed": seed, "budget": budget,
                                   "epochs": Pb["epochs"], "series": "long"},
                        "spec": case_spec(Pb, case, seed)})
    # the article's runs, then the decayed, then the long series; within each seed-major,
    # and the costly case 2 (8x the images per epoch) last: a campaign cut short still
    # has whole seeds of every other arm
    series = ("article", "decayed", "long")

    def order(r):
        c, lab = P["cases"][r["labels"]["case"]], r["labels"]
        return (series.index(lab["series"]), lab["budget"] != 1.0,
                c["batch_size"] // (c.get("step_size") or c["batch_size"]), lab["seed"])
    return sorted(out, key=order)

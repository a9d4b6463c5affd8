"""Natural-vs-artificial auxiliary loss (the article: docs/articles.md#natural_artificial_loss).

Five patterns, each a loss and a learning rate, trained with the same cnn10,
Adam without decay and no augmentation; `seeds` runs per pattern, then
`extra_seeds` more for the two patterns the article compared 15 times.
Accuracy is always the 10-class accuracy.
"""

from __future__ import annotations

from ...training.vocabulary import ARTICLE_LOSSES
from ..params import (ParamError, at_budget, check_known, check_model, check_positive,
                      check_seeds, check_series, require)
from ...training.spec import make_spec

NOTEBOOK = "natural_artificial_loss"

#: Pattern order and the article's names for them.
PATTERNS = {
    "natural_hardmax": "Natural HardMax",
    "natural_softmax": "Natural SoftMax",
    "multi_softmax": "Multiple Softmax CrossEntropy",
    "normal_lr1e-3": "Normal label only (lr=1e-3)",
    "normal_lr1e-2": "Normal label only (lr=1e-2)",
}
#: The article's claims (it publishes box plots, not numbers), in the words the
#: notebook and the claims ledger both use.
CLAIMS = {
    "stably_above_90": "Natural SoftMax is stably above 90 % best test accuracy",
    "gain_1_2_points": "Natural SoftMax is 1–2 points above Normal (lr 1e-3)",
    "lr1e-2_worse": "Normal with lr 1e-2 is worse than with 1e-3",
    "hardmax_bad": "Natural HardMax does badly (below Normal, lr 1e-3)",
}
LOSS_NAMES = set(ARTICLE_LOSSES) | {"categorical_crossentropy"}
TOP_KEYS = {"model", "dataset", "epochs", "batch_size", "seeds", "extra_seeds", "patterns",
            "decayed", "long", "runtime"}


def validate(P: dict) -> None:
    check_known(P, TOP_KEYS)
    check_model(P)
    check_positive(P, "epochs", "batch_size")
    check_seeds(require(P, "seeds", list))
    patterns = require(P, "patterns", dict)
    for name, pat in patterns.items():
        if name not in PATTERNS:
            raise ParamError(f"unknown pattern {name!r} in parameter 'patterns'; known: "
                             f"{list(PATTERNS)}")
        if pat.get("loss") not in LOSS_NAMES:
            raise ParamError(f"parameter 'patterns.{name}.loss' = {pat.get('loss')!r}; "
                             f"known: {sorted(LOSS_NAMES)}")
        lr = pat.get("learning_rate")
        if not isinstance(lr, float) or lr <= 0:
            raise ParamError(f"parameter 'patterns.{name}.learning_rate' = {lr!r} must be > 0")
    for name, extra in (P.get("extra_seeds") or {}).items():
        if name not in patterns:
            raise ParamError(f"parameter 'extra_seeds' names pattern {name!r}, not in 'patterns'")
        check_seeds(extra, f"extra_seeds.{name}")
    check_series(P, "patterns", patterns)
    if P.get("decayed"):
        require(P["decayed"], "lr_schedule", dict, "decayed.")


def pattern_spec(P: dict, pattern: str, seed: int, lr_schedule: dict | None = None) -> dict:
    """The pattern at the article's constant rate, or ending on ``lr_schedule``
    where one is given (ours: the decayed series)."""
    pat = P["patterns"][pattern]
    changes = {"lr_schedule": lr_schedule} if lr_schedule else {}
    return make_spec(P, seed, loss={"name": pat["loss"]},
                     optimizer={"learning_rate": pat["learning_rate"]}, **changes)


def runs(P: dict) -> list[dict]:
    """Every pattern on ``seeds`` plus its ``extra_seeds`` (series
    ``article``), then the ``decayed`` and ``long`` patterns."""
    extra = P.get("extra_seeds") or {}

    def row(pattern, seed, series, spec):
        return {"labels": {"pattern": pattern, "seed": seed, "first_batch": seed in P["seeds"],
                           "epochs": spec["epochs"], "series": series}, "spec": spec}
    out = []
    for pattern in (p for p in PATTERNS if p in P["patterns"]):
        seeds = list(P["seeds"]) + [s for s in extra.get(pattern, []) if s not in P["seeds"]]
        out += [row(pattern, seed, "article", pattern_spec(P, pattern, seed)) for seed in seeds]
    decayed = P.get("decayed") or {"patterns": []}
    out += [row(pattern, seed, "decayed", pattern_spec(P, pattern, seed, decayed["lr_schedule"]))
            for seed in decayed.get("seeds", []) for pattern in decayed["patterns"]]
    long = P.get("long") or {"patterns": []}
    if long["patterns"]:
        Pl = at_budget(P, long["epochs"] / P["epochs"], "lr_schedule")
        out += [row(pattern, seed, "long", pattern_spec(Pl, pattern, seed))
                for seed in long["seeds"] for pattern in long["patterns"]]
    return out

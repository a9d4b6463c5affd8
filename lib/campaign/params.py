"""Checks of profile parameters, shared by the experiments: each names the
parameter it rejects (``ParamError``). Loading a profile is ``profiles.load``."""

from __future__ import annotations


class ParamError(ValueError):
    """A parameter is missing, unknown or inconsistent; the message names it."""


def require(P: dict, key: str, kind, where: str = ""):
    """``P[key]`` checked against ``kind``; the error names the parameter."""
    name = f"{where}{key}"
    if key not in P:
        raise ParamError(f"missing parameter {name!r}")
    value = P[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ParamError(f"parameter {name!r} = {value!r} should be {kind}")
    return value


#: Top-level keys every profile may have: its names, set by ``profiles.load``,
#: and ``precision`` (``lib.training.spec.PRECISIONS``; ``check_precision``).
COMMON_KEYS = {"notebook", "profile", "precision"}


def check_known(P: dict, known: set) -> None:
    unknown = set(P) - set(known) - COMMON_KEYS
    if unknown:
        raise ParamError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(known)}")


def check_precision(P: dict) -> None:
    from ..training.spec import OPTIONAL, PRECISIONS

    if P.get("precision", OPTIONAL["precision"]) not in PRECISIONS:
        raise ParamError(f"parameter 'precision' = {P['precision']!r} should be one of "
                         f"{list(PRECISIONS)}")


def check_model(P: dict) -> dict:
    from ..training.vocabulary import MODEL_NAMES

    model = require(P, "model", dict)
    if model.get("name") not in MODEL_NAMES:
        raise ParamError(f"parameter 'model.name' = {model.get('name')!r} is not a known "
                         f"model {list(MODEL_NAMES)}")
    return model


def check_positive(P: dict, *keys: str, kind=int) -> None:
    for key in keys:
        if not require(P, key, kind) > 0:
            raise ParamError(f"parameter {key!r} = {P[key]!r} must be > 0")


def check_seeds(seeds, name: str = "seeds") -> None:
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ParamError(f"parameter {name!r} = {seeds!r} should be a non-empty list of ints")


def check_budget_fractions(P: dict, arm_key: str, arms) -> None:
    """``budget_fractions: {<arm_key>: [...], fractions: [...], seeds: [...]}``:
    the arms to rerun at other budgets, each a multiple of ``epochs`` (below 1
    a shorter run, above 1 a longer one) that gives whole epochs; ``seeds``
    (optional) the seeds of those runs, when they are fewer than the
    profile-length runs' (a budget's worth of seeds goes where it buys the
    most evidence)."""
    bf = P.get("budget_fractions")
    if bf is None:
        return
    check_known(bf, {arm_key, "fractions", "seeds"})
    if "seeds" in bf:
        check_seeds(bf["seeds"], "budget_fractions.seeds")
    bad = [a for a in require(bf, arm_key, list, "budget_fractions.") if a not in arms]
    if bad:
        raise ParamError(f"parameter 'budget_fractions.{arm_key}' names {bad}, not among {sorted(arms)}")
    for f in require(bf, "fractions", list, "budget_fractions."):
        epochs = P["epochs"] * f
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f != 1 \
                or epochs != int(epochs):
            raise ParamError(f"parameter 'budget_fractions.fractions' has {f!r}: a multiple of "
                             f"{P['epochs']} epochs, other than 1, that gives whole epochs")


def at_budget(P: dict, fraction: float, schedule_key: str) -> dict:
    """``P`` with ``epochs`` and the milestones of ``P[schedule_key]`` scaled by
    ``fraction``: the same recipe compressed to a shorter run (or stretched
    to a longer one)."""
    if fraction == 1:
        return P
    out = dict(P, epochs=int(P["epochs"] * fraction))
    sched = P.get(schedule_key) or {}
    if "milestones" in sched:
        # rounded: 1.2 * (1/3) is 0.39999999999999997 in floats, and specs are hashed
        out[schedule_key] = dict(sched, milestones=[round(m * fraction, 9)
                                                    for m in sched["milestones"]])
    return out


def check_series(P: dict, arm_key: str, arms) -> None:
    """The two optional run series beside the article's own runs:

    - ``decayed: {<arm_key>: [...], seeds: [...], lr_schedule: {...}}``: the
      arms again, each ending on a learning-rate decay (``lr_schedule``, where
      the experiment does not bring its own), so that paired differences are
      read where the endpoint is quiet;
    - ``long: {<arm_key>: [...], epochs: n, seeds: [...]}``: the arms with the
      profile's recipe trained for ``n`` epochs (more than ``epochs``), so the
      effect can be read at every length up to where the baseline overfits."""
    for key, extra in (("decayed", {"lr_schedule"}), ("long", {"epochs"})):
        section = P.get(key)
        if section is None:
            continue
        where = f"{key}."
        if not isinstance(section, dict):
            raise ParamError(f"parameter {key!r} = {section!r} should be a mapping")
        check_known(section, {arm_key, "seeds"} | extra)
        check_seeds(require(section, "seeds", list, where), f"{where}seeds")
        chosen = require(section, arm_key, list, where)
        bad = [a for a in chosen if a not in arms]
        if not chosen or bad:
            raise ParamError(f"parameter '{where}{arm_key}' = {chosen!r}: each must be one of "
                             f"{sorted(arms, key=str)}")
        if "lr_schedule" in section and require(section, "lr_schedule", dict, where).get(
                "name") not in ("step", "cosine"):
            raise ParamError(f"parameter '{where}lr_schedule' = {section['lr_schedule']!r} "
                             "should decay to the end: name 'step' or 'cosine'")
        if key == "long" and not require(section, "epochs", int, where) > P["epochs"]:
            raise ParamError(f"parameter 'long.epochs' = {section['epochs']!r} must exceed "
                             f"'epochs' = {P['epochs']}")

"""Profiles: the one list of profiles and of notebooks, and loading
``params/<notebook>/<profile>.yaml`` into a checked parameter dict and its
run specs."""

from __future__ import annotations

import yaml

from ..store.paths import REPO
from ..training.spec import read_prefixes
from . import experiments
from .names import DEFAULT_PROFILE, PROFILES  # noqa: F401  (re-exported: the one list)
from .params import ParamError, check_precision

PARAMS_DIR = REPO / "params"


def notebooks() -> list[str]:
    """The notebooks (each has ``notebooks/<name>.ipynb``)."""
    return experiments.notebooks()


def has_profile(notebook: str, profile: str) -> bool:
    return (PARAMS_DIR / notebook / f"{profile}.yaml").exists()


def load(notebook: str, profile: str, overrides: dict | None = None) -> dict:
    """Read a profile, apply ``overrides`` (top-level keys, ``None`` values
    ignored) and validate it with the notebook's experiment module, so bad
    input fails here, before any training."""
    path = PARAMS_DIR / notebook / f"{profile}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (PARAMS_DIR / notebook).glob("*.yaml"))
        raise ParamError(f"no profile {profile!r} for notebook {notebook!r} "
                         f"(looked for {path}; known profiles: {known})")
    P = yaml.safe_load(path.read_text()) or {}
    for key, value in (overrides or {}).items():
        if value is not None:
            P[key] = value
    P["notebook"], P["profile"] = notebook, profile
    check_precision(P)
    module = experiments.get(notebook)
    if getattr(module, "BASE_NOTEBOOK", None):   # a profile built on another notebook's
        P["base"] = load(module.BASE_NOTEBOOK, profile, {"precision": P.get("precision")})
    module.validate(P)
    return P


def planned_specs(notebook: str, profile: str) -> list[dict]:
    """Every run spec the profile defines for the notebook, prefixes of longer
    runs included (what a cached run's id must stay among)."""
    return [r["spec"] for r in experiments.get(notebook).runs(load(notebook, profile))]


def notebook_runs(notebook: str, profile: str, overrides: dict | None = None,
                  only: dict | None = None) -> tuple[dict, list]:
    """The profile's parameters and its runs (``labels`` and ``spec`` each; a
    run that is the prefix of a longer one is that one read at ``at_epoch``:
    ``lib.training.spec.read_prefixes``). ``only`` keeps the runs whose labels have
    these values (e.g. ``{"series": "decayed"}``)."""
    P = load(notebook, profile, overrides)
    runs = read_prefixes(experiments.get(notebook).runs(P))
    if only:
        known = set().union(*(r["labels"] for r in runs)) if runs else set()
        unknown = set(only) - known
        if unknown:
            raise ParamError(f"--only names label(s) {sorted(unknown)}; the runs of "
                                        f"{notebook!r} have {sorted(known)}")
        runs = [r for r in runs if all(r["labels"].get(k) == v for k, v in only.items())]
    return P, runs


def label_text(run: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in run["labels"].items())

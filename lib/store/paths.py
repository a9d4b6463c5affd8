"""Where everything lives: the repository, the results root and each
profile's folders, and the content hash that names run and measurement
files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def content_id(obj) -> str:
    """First 12 hex digits of the SHA-256 of ``obj`` as canonical JSON (sorted
    keys, compact separators): the name of a run or of a measurement."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def results_root() -> Path:
    """``$ABLATION_RESULTS_DIR``, else the repository's ``results/`` (absolute,
    so notebooks find it whatever their working directory)."""
    return Path(os.environ.get("ABLATION_RESULTS_DIR") or REPO / "results").resolve()


def profile_dir(profile: str) -> Path:
    return results_root() / profile


def runs_dir(profile: str) -> Path:
    """``<results>/<profile>/runs``: one directory per run, named by its id."""
    return profile_dir(profile) / "runs"


def timings_dir(profile: str) -> Path:
    """``<results>/<profile>/timings``: one measurement file each."""
    return profile_dir(profile) / "timings"


def tables_dir(profile: str) -> Path:
    return profile_dir(profile) / "tables"


def figures_dir(profile: str, notebook: str) -> Path:
    return profile_dir(profile) / "figures" / notebook

"""The one reader and writer of measurement files.

A measurement (``check``'s images/s, a notebook's epoch time or latency, the
calibration's throughput) is stored as ``<results>/<profile>/timings/<id>.json``:
``{"request", "columns", "rows", "environment", "measured_at"}``. The id
hashes the request (what was measured: its kind, models, sizes, backend, ...),
so the same request is measured once; the file also records the machine and
the date. Delete a file to measure again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .paths import content_id, timings_dir
from .runfiles import write_json


def path_for(profile: str, request: dict) -> Path:
    return timings_dir(profile) / f"{content_id(request)}.json"


def write(profile: str, request: dict, columns: list, rows: list[dict],
          environment: dict) -> Path:
    """Store one measurement (atomically); returns its path."""
    path = path_for(profile, request)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"request": request, "columns": list(columns), "rows": rows,
                      "environment": environment,
                      "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return path


def read(profile: str, request: dict) -> dict | None:
    """The stored measurement of ``request``, or ``None``."""
    path = path_for(profile, request)
    return json.loads(path.read_text()) if path.exists() else None


def read_all(profile: str, kind: str | None = None) -> list[dict]:
    """Every stored measurement of ``profile`` (of one ``kind``), oldest name first."""
    out = []
    for p in sorted(timings_dir(profile).glob("*.json")):
        d = json.loads(p.read_text())
        if kind is None or d.get("request", {}).get("kind") == kind:
            out.append(d)
    return out

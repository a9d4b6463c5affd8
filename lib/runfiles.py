"""Files of a run directory, written atomically (no Keras import, so loading
cached runs stays fast)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "test_loss", "test_accuracy",
                  "lr", "train_seconds", "epoch_seconds")
#: written only by runs with a validation set
OPTIONAL_FIELDS = ("val_loss", "val_accuracy")


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()}
                for row in csv.DictReader(f)]


def write_history(path: Path, rows: list[dict]) -> None:
    fields = HISTORY_FIELDS + tuple(k for k in OPTIONAL_FIELDS if rows and k in rows[0])
    lines = [",".join(fields)]
    lines += [",".join(repr(r[k]) if isinstance(r[k], float) else str(r[k])
                       for k in fields) for r in rows]
    write_atomic(path, "\n".join(lines) + "\n")

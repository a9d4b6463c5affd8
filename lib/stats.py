"""Statistics over repeated runs: per-group description, bootstrap CI of a
difference of means, and the Mann-Whitney U test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps


def describe(table: pd.DataFrame, by: str, metric: str, order=None) -> pd.DataFrame:
    g = table.groupby(by)[metric]
    out = pd.DataFrame({"n": g.size(), "mean": g.mean(), "std": g.std(ddof=1),
                        "median": g.median(), "min": g.min(), "max": g.max()})
    if order is not None:
        out = out.reindex([k for k in order if k in out.index])
    return out.reset_index()


def bootstrap_diff(a, b, n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> dict:
    """mean(b) - mean(a) with a percentile bootstrap CI (each group resampled
    with replacement on its own)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    boots = (rng.choice(b, (n_boot, len(b))).mean(1) - rng.choice(a, (n_boot, len(a))).mean(1))
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return {"diff": float(b.mean() - a.mean()), "ci_low": float(lo), "ci_high": float(hi),
            "n_a": len(a), "n_b": len(b)}


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value (nan when a group has < 2 values)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(sps.mannwhitneyu(b, a, alternative="two-sided").pvalue)

"""Every statistic the notebooks report, with one verdict vocabulary.

Runs are repeated over seeds; in this project the same seed means the same
initial weights and the same data order, so two arms run on the same seeds
are compared *paired* (per-seed differences, over the seeds both ran), which
removes the seed-to-seed spread they share. Arms that share fewer than two
seeds fall back to Welch's t. With fewer than 10 runs per arm, t intervals
are used throughout (no percentile bootstrap: it is too narrow with so few
runs).

One definition of the interval, the detectable effect and the verdict,
used by every table, figure and sentence: the 95 % t interval of the change
(two-sided 5 %, not adjusted for multiplicity), and the minimum detectable
effect at the same level with 80 % power. Where comparisons form a family,
the Holm-adjusted p-value and the detectable effect at the family's
strictest Holm level are given *beside* them (``p_holm``, ``mde_holm``), as a
caution, never in their place.

Verdicts are values (:class:`Verdict`), worded in one place (:func:`verdict_text`):

- ``helps`` / ``hurts``: the interval excludes 0; helps when ``b`` is better.
- ``inconclusive``: it does not; the wording gives the minimum detectable
  effect: "inconclusive (could detect ≥ X points)".
- ``no_verdict``: a side has one run, so there is no spread.
- ``no_spread``: every difference is the same (e.g. all runs stuck at chance
  level), so no test applies.

Tests are values too (:class:`Test`: ``paired``, ``welch``, ``none``).
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats as sps

ALPHA = 0.05
POWER = 0.80


class Verdict(StrEnum):
    HELPS = "helps"
    HURTS = "hurts"
    INCONCLUSIVE = "inconclusive"
    NO_VERDICT = "no_verdict"
    NO_SPREAD = "no_spread"


class Test(StrEnum):
    PAIRED = "paired"
    WELCH = "welch"
    NONE = "none"


#: How each test is named in tables, figures and prose.
TEST_NAMES = {Test.PAIRED: "paired t", Test.WELCH: "Welch t", Test.NONE: "no test"}
_VERDICT_WORDS = {Verdict.HELPS: "helps", Verdict.HURTS: "hurts",
                  Verdict.NO_VERDICT: "no verdict (n < 2 per arm)",
                  Verdict.NO_SPREAD: "no verdict (no spread between runs)"}

#: Columns of :func:`compare_many`, in order.
COMPARE_COLUMNS = ("change", "from", "to", "ours", "ci95_low", "ci95_high", "n_a", "n_b",
                   "n_pairs", "test", "sd_diff", "se", "mde", "p", "p_holm", "mde_holm",
                   "verdict", "article")


def describe(table: pd.DataFrame, by: str, metric: str, order=None) -> pd.DataFrame:
    """n, mean, sample std, median, min and max of ``metric`` per ``by`` value."""
    g = table.groupby(by)[metric]
    out = pd.DataFrame({"n": g.size(), "mean": g.mean(), "std": g.std(ddof=1),
                        "median": g.median(), "min": g.min(), "max": g.max()})
    if order is not None:
        out = out.reindex([k for k in order if k in out.index])
    return out.reset_index()


def summarize(table: pd.DataFrame, by: str, metrics=("final_test_accuracy", "best_test_accuracy"),
              article: dict | None = None, article_metric: str = "final_test_accuracy") -> pd.DataFrame:
    """Mean, sample std and count over seeds of each metric per ``by`` value,
    with the article's number and our gap to it (ours - article) beside."""
    g = table.groupby(by)
    out = pd.DataFrame({"n_seeds": g.size()})
    for m in metrics:
        out[f"{m}_mean"] = g[m].mean()
        out[f"{m}_std"] = g[m].std(ddof=1)   # NaN with one seed: no spread to report
    if article is not None:
        out["article"] = [article.get(k) for k in out.index]
        out["article"] = out["article"].astype(float)
        out["gap_to_article"] = out[f"{article_metric}_mean"] - out["article"]
    return out.reset_index()


def _pairs(table: pd.DataFrame, by: str, a, b, metric: str, pair_on: str):
    """Per-seed (x_a, x_b) aligned on ``pair_on``, over the seeds both arms
    ran, when each arm ran each seed once and either the arms share at least
    two seeds or their seed sets are equal; else None.

    An arm given more seeds than another (e.g. the main claim on 6 seeds, the
    rest on 3) is paired with it on the shared seeds: the extra runs serve the
    comparisons that have them."""
    ta, tb = table[table[by] == a], table[table[by] == b]
    sa, sb = ta[pair_on], tb[pair_on]
    if sa.duplicated().any() or sb.duplicated().any():
        return None
    in_b = set(sb)
    shared = [s for s in sa if s in in_b]
    if set(sa) != in_b and len(shared) < 2:
        return None
    xa = ta.set_index(pair_on)[metric].loc[shared]
    xb = tb.set_index(pair_on)[metric].loc[shared]
    return xa.to_numpy(float), xb.to_numpy(float)


def min_detectable(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Minimum detectable effect of a two-sided t test at ``alpha`` with
    ``power``: ``(t_{1-α/2, df} + t_{power, df}) · se`` (the noncentral-t-free
    approximation)."""
    return (float(sps.t.ppf(1 - alpha / 2, df)) + float(sps.t.ppf(power, df))) * se


def t_p(diff: float, se: float, df: float) -> float:
    """Two-sided p-value of a t statistic ``diff / se`` with ``df`` degrees of freedom."""
    return float(2 * sps.t.sf(abs(diff) / se, df))


def _t_result(diff: float, se: float, df: float, level: float, power: float) -> dict:
    """Interval, p-value and minimum detectable effect of a t statistic."""
    if se == 0:   # every run alike (e.g. all stuck at chance): nothing to test against
        nan = float("nan")
        return {"ci_low": diff, "ci_high": diff, "p": nan, "mde": nan, "df": df}
    q = float(sps.t.ppf((1 + level) / 2, df))
    p = t_p(diff, se, df)
    mde = min_detectable(se, df, 1 - level, power)
    return {"ci_low": diff - q * se, "ci_high": diff + q * se, "p": p, "mde": mde, "df": df}


def compare(table: pd.DataFrame, by: str, a, b, metric: str = "final_test_accuracy",
            pair_on: str | None = "seed", level: float = 1 - ALPHA, power: float = POWER) -> dict:
    """The change of ``metric`` from arm ``a`` to arm ``b`` (rows where
    ``table[by]`` is ``a`` resp. ``b``), with a t interval and a p-value.

    Paired ("paired t") when ``pair_on`` is a column, each arm holds each of
    its values once, and the arms share at least two of them (or all): over
    the ``n_pairs`` shared seeds, ``diff`` is the mean of the per-seed
    differences b - a, ``sd_diff`` their sample std, ``se = sd_diff / √n``,
    and the interval uses n - 1 degrees of freedom (``n_a``, ``n_b`` still
    count every run of each arm). Otherwise, or with
    ``pair_on=None``, Welch's t ("Welch t"): ``diff = mean(b) - mean(a)``,
    ``se = √(s_a²/n_a + s_b²/n_b)`` with Welch-Satterthwaite degrees of
    freedom (``sd_diff`` is nan: there are no per-seed differences).

    ``mde`` is the minimum detectable effect: the true difference that a
    two-sided test at ``1 - level`` would detect with probability ``power``
    given the measured spread, approximated without the noncentral t as
    ``(t_{1-α/2, df} + t_{power, df}) · se``. It shrinks as 1/√n and grows
    with the spread.

    With fewer than two runs on a side (two pairs when paired) there is no
    spread: ``test`` is ``Test.NONE`` and se, interval, p and mde are nan. With a
    spread of exactly zero (``se == 0``) the interval is the point ``diff``
    and p and mde are nan.
    """
    xa = table.loc[table[by] == a, metric].to_numpy(float)
    xb = table.loc[table[by] == b, metric].to_numpy(float)
    if len(xa) == 0 or len(xb) == 0:
        raise ValueError(f"no runs with {by} = {a!r}" if len(xa) == 0 else f"no runs with {by} = {b!r}")
    nan = float("nan")
    out = {"a": a, "b": b, "diff": float(xb.mean() - xa.mean()), "ci_low": nan, "ci_high": nan,
           "n_a": len(xa), "n_b": len(xb), "n_pairs": 0, "test": Test.NONE, "sd_diff": nan,
           "se": nan, "df": nan, "p": nan, "mde": nan}
    paired = (_pairs(table, by, a, b, metric, pair_on)
              if pair_on is not None and pair_on in table.columns else None)
    if paired is not None:
        d = paired[1] - paired[0]
        out.update(diff=float(d.mean()), n_pairs=len(d))
        if len(d) >= 2:
            sd = float(d.std(ddof=1))
            se = sd / math.sqrt(len(d))
            out.update(test=Test.PAIRED, sd_diff=sd, se=se,
                       **_t_result(out["diff"], se, len(d) - 1, level, power))
    elif len(xa) >= 2 and len(xb) >= 2:
        va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
        se = math.sqrt(va + vb)
        df = ((va + vb) ** 2 / (va ** 2 / (len(xa) - 1) + vb ** 2 / (len(xb) - 1))
              if se > 0 else float(len(xa) + len(xb) - 2))
        out.update(test=Test.WELCH, se=se, **_t_result(out["diff"], se, df, level, power))
    return out


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (nan entries are
    not part of the family and stay nan): the i-th smallest of m p-values is
    multiplied by m - i + 1, then made non-decreasing and capped at 1."""
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def verdict(result, p: float | None = None, alpha: float = ALPHA,
            higher_is_better: bool = True) -> Verdict:
    """The :class:`Verdict` on one comparison (a :func:`compare` dict or a
    :func:`compare_many` row), see the module docstring; ``p`` overrides the
    result's own p-value."""
    diff = result["diff"] if "diff" in result else result["ours"]
    if p is None:
        p = result["p"]
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return Verdict.NO_SPREAD if result["se"] == 0 else Verdict.NO_VERDICT
    if p < alpha:
        return Verdict.HELPS if (diff > 0) == higher_is_better else Verdict.HURTS
    return Verdict.INCONCLUSIVE


def verdict_text(row, scale: float = 100.0) -> str:
    """A row's verdict in words; an inconclusive one names the smallest change
    the runs could have detected: "inconclusive (could detect ≥ 2.3 points)"."""
    v = Verdict(row["verdict"])
    if v is Verdict.INCONCLUSIVE:
        return f"inconclusive (could detect ≥ {row['mde'] * scale:.1f} points)"
    return _VERDICT_WORDS[v]


def compare_many(table: pd.DataFrame, by: str, pairs, article: dict | None = None,
                 metric: str = "final_test_accuracy", pair_on: str | None = "seed") -> pd.DataFrame:
    """One row per ``(a, b, description)`` in ``pairs`` whose arms both have
    runs (others are skipped); the rows form one family for Holm's adjustment.

    Columns (``COMPARE_COLUMNS``): ``change`` the description; ``from``/``to``
    the arms a and b; ``ours`` the change of ``metric`` from a to b (mean of
    per-seed differences when paired); ``ci95_low``/``ci95_high`` its 95 % t
    interval; ``n_a``/``n_b`` runs per arm and ``n_pairs`` seeds paired (0
    for Welch); ``test`` a :class:`Test`; ``sd_diff`` the std of per-seed
    differences (paired only); ``se`` the standard error; ``mde`` the
    minimum detectable effect (80 % power, two-sided 5 %); ``p`` the
    two-sided p-value; ``verdict`` from ``p`` (the interval); beside them, as
    a caution for the family: ``p_holm`` Holm-adjusted within the rows of
    this call and ``mde_holm`` the detectable effect at the family's
    strictest Holm level 0.05 / m (m the rows with a p-value); ``article``
    the article's change b - a (nan when it lacks either)."""
    present = set(table[by])
    results, names = [], []
    for a, b, what in pairs:
        if {a, b} <= present:
            results.append(compare(table, by, a, b, metric, pair_on=pair_on))
            names.append(what)
    p_holm = holm([r["p"] for r in results])
    family = max(1, int(np.isfinite(p_holm).sum()))
    rows = []
    for r, what, ph in zip(results, names, p_holm):
        a, b = r["a"], r["b"]
        art = (article[b] - article[a] if article and article.get(a) is not None
               and article.get(b) is not None else float("nan"))
        rows.append({"change": what, "from": a, "to": b, "ours": r["diff"],
                     "ci95_low": r["ci_low"], "ci95_high": r["ci_high"], "n_a": r["n_a"],
                     "n_b": r["n_b"], "n_pairs": r["n_pairs"], "test": r["test"],
                     "sd_diff": r["sd_diff"], "se": r["se"], "mde": r["mde"], "p": r["p"],
                     "p_holm": ph,
                     # detectable at the family's strictest Holm level, alpha / m
                     "mde_holm": (min_detectable(r["se"], r["df"], ALPHA / family)
                                  if np.isfinite(r["p"]) else float("nan")),
                     "verdict": verdict(r), "article": art})
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def n_text(row, sep: str = " = ") -> str:
    """Runs per arm of a comparison row, ``"n = 3/3"``; a paired test over fewer
    seeds than an arm ran says so: ``"n = 6/3, 3 pairs"``."""
    n = f"n{sep}{row['n_a']}/{row['n_b']}"
    if Test(row["test"]) is Test.PAIRED and row["n_pairs"] < max(row["n_a"], row["n_b"]):
        n += f", {row['n_pairs']} pairs"
    return n


def change_text(row, scale: float = 100.0) -> str:
    """One comparison (a :func:`compare_many` row) in words:
    ``"**verdict**: +1.23 points (95 % CI -0.50 to +2.96; paired t, n = 3/3)"``;
    a paired test over fewer seeds than an arm ran says so: ``"n = 6/3, 3 pairs"``."""
    text = f"**{verdict_text(row, scale)}**: {row['ours'] * scale:+.2f} points"
    n = n_text(row)
    if Test(row["test"]) is Test.NONE:
        return text + f" ({n})"
    return (text + f" (95 % CI {row['ci95_low'] * scale:+.2f} to {row['ci95_high'] * scale:+.2f}; "
            f"{TEST_NAMES[Test(row['test'])]}, {n})")


#: Columns of :func:`compare_by_budget`, in order.
BUDGET_COLUMNS = ("budget", "epochs", "from", "to", "mean_a", "mean_b", "ours", "ci95_low",
                  "ci95_high", "n_a", "n_b", "n_pairs", "test", "sd_diff", "se", "mde", "p",
                  "verdict")


def compare_by_budget(table: pd.DataFrame, by: str, a, b, metric: str = "final_test_accuracy",
                      budget: str = "budget", epochs: str = "epochs",
                      pair_on: str | None = "seed") -> pd.DataFrame:
    """The change of ``metric`` from arm ``a`` to arm ``b`` (:func:`compare`,
    paired by seed where both arms share seeds) separately at each value of
    the ``budget`` column where both arms have runs, smallest budget first.

    Columns (``BUDGET_COLUMNS``): ``budget`` the fraction of the full run,
    ``epochs`` its length (the arms' ``epochs`` column, which must agree),
    ``from``/``to`` the arms, ``mean_a``/``mean_b`` their means, then as in
    :func:`compare_many`: ``ours`` the change, its 95 % t interval, run
    counts, test, spread, ``mde`` (80 % power at 0.05), ``p`` and
    ``verdict``. Each budget is its own question, so p-values are *not*
    adjusted across budgets."""
    rows = []
    for value in sorted(table[budget].unique()):
        t = table[table[budget] == value]
        if not {a, b} <= set(t[by]):
            continue
        ep = t.loc[t[by].isin([a, b]), epochs].unique()
        if len(ep) != 1:
            raise ValueError(f"{budget} = {value}: arms {a!r} and {b!r} ran different epochs {sorted(ep)}")
        r = compare(t, by, a, b, metric, pair_on=pair_on)
        rows.append({"budget": float(value), "epochs": int(ep[0]), "from": a, "to": b,
                     "mean_a": float(t.loc[t[by] == a, metric].mean()),
                     "mean_b": float(t.loc[t[by] == b, metric].mean()), "ours": r["diff"],
                     "ci95_low": r["ci_low"], "ci95_high": r["ci_high"], "n_a": r["n_a"],
                     "n_b": r["n_b"], "n_pairs": r["n_pairs"], "test": r["test"],
                     "sd_diff": r["sd_diff"], "se": r["se"], "mde": r["mde"], "p": r["p"],
                     "verdict": verdict(r)})
    return pd.DataFrame(rows, columns=list(BUDGET_COLUMNS))


#: The low-noise estimate of a run's test accuracy "at epoch E" used wherever an
#: effect is read along a long run: the mean over that run's epochs e with
#: E / WINDOW_RATIO <= e <= E * WINDOW_RATIO (so a handful of epochs late in a
#: run, E alone early on; cut at the run's last epoch). A constant-rate run's
#: single epochs jump by points, far more than the effects under test.
WINDOW_RATIO = 1.25
WINDOW_NAME = ("test accuracy averaged over epochs E/1.25 to 1.25·E of each run, "
               "cut at its last epoch")


def window_mean(epochs, values, at: int, ratio: float = WINDOW_RATIO) -> float:
    """The :data:`WINDOW_RATIO` window mean of ``values`` (one per epoch in
    ``epochs``) around epoch ``at``."""
    e = np.asarray(epochs, float)
    v = np.asarray(values, float)
    inside = (e >= at / ratio - 1e-9) & (e <= at * ratio + 1e-9)
    if not inside.any():
        raise ValueError(f"no epoch within the window around epoch {at}")
    return float(v[inside].mean())

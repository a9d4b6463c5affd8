"""The effect against training length: one claim's paired gain at every
epoch its long runs pass through, read from their histories (a run of E
epochs at a constant rate is the first E epochs of a longer one), with the
baseline's train - test gap, so a reader sees where overfitting starts and
whether the gain follows it.

At each epoch the gain is that of :func:`lib.analysis.stats.window_mean`
(named by ``stats.WINDOW_NAME``), paired by seed with :func:`stats.compare`;
the single-epoch ("final epoch") gain stands beside it in the table.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import stats

#: Columns of :func:`by_epoch`, in order.
COLUMNS = ("epochs", "ours", "ci95_low", "ci95_high", "n_pairs", "mde", "se", "df", "p",
           "verdict",
           "final_epoch_ours", "final_epoch_ci95_low", "final_epoch_ci95_high",
           "baseline_train_test_gap", "baseline_test_accuracy")
#: The baseline overfits when its train accuracy exceeds its test accuracy by this much.
OVERFIT_GAP = 0.10


def by_epoch(hist: pd.DataFrame, by: str, a, b, pair_on: str = "seed") -> pd.DataFrame:
    """One row per epoch both arms' runs reached (``hist``: histories of the
    long runs, with ``by``, ``pair_on``, ``epoch``, ``accuracy`` and
    ``test_accuracy``): the windowed gain b - a with its 95 % interval, n,
    detectable effect and verdict; the single-epoch gain; the baseline's
    (arm ``a``) mean train - test accuracy and test accuracy over seeds.
    Only seeds both arms have are read (each is a pair); none: no rows."""
    h = hist[hist[by].isin([a, b])]
    shared = set(h.loc[h[by] == a, pair_on]) & set(h.loc[h[by] == b, pair_on])
    h = h[h[pair_on].isin(shared)]
    if h.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    last = int(h.groupby([by, pair_on])["epoch"].max().min())
    runs = {key: g.sort_values("epoch") for key, g in h.groupby([by, pair_on])}
    rows = []
    for e in range(1, last + 1):
        per_run = []
        for (arm, seed), g in runs.items():
            g = g[g["epoch"] <= last]
            at = g[g["epoch"] == e].iloc[0]
            per_run.append({by: arm, pair_on: seed,
                            "window": stats.window_mean(g["epoch"], g["test_accuracy"], e),
                            "final": float(at["test_accuracy"]),
                            "gap": float(at["accuracy"] - at["test_accuracy"])})
        t = pd.DataFrame(per_run)
        w = stats.compare(t, by, a, b, "window", pair_on=pair_on)
        f = stats.compare(t, by, a, b, "final", pair_on=pair_on)
        base = t[t[by] == a]
        rows.append({"epochs": e, "ours": w["diff"], "ci95_low": w["ci_low"],
                     "ci95_high": w["ci_high"], "n_pairs": w["n_pairs"], "mde": w["mde"],
                     "se": w["se"], "df": w["df"], "p": w["p"], "verdict": stats.verdict(w), "final_epoch_ours": f["diff"],
                     "final_epoch_ci95_low": f["ci_low"], "final_epoch_ci95_high": f["ci_high"],
                     "baseline_train_test_gap": float(base["gap"].mean()),
                     "baseline_test_accuracy": float(base["final"].mean())})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def report_lengths(last: int, *also: int) -> list[int]:
    """The lengths a table reports: 1, 2, 4, 8, ... up to ``last``, ``last``
    itself and ``also`` (e.g. the profile's own length) where they are reached."""
    out = {2 ** k for k in range(0, int(np.log2(max(last, 1))) + 1)} | {last}
    return sorted(out | {e for e in also if 1 <= e <= last})


def overfit_epoch(table: pd.DataFrame, gap: float = OVERFIT_GAP) -> int | None:
    """The first epoch at which the baseline's train - test gap reaches ``gap``."""
    hit = table.loc[table["baseline_train_test_gap"] >= gap, "epochs"]
    return int(hit.iloc[0]) if len(hit) else None


def crossings(table: pd.DataFrame) -> list[int]:
    """Epochs at which the windowed gain changes sign (from the epoch before)."""
    s = np.sign(table["ours"].to_numpy(float))
    return [int(e) for e, prev, cur in zip(table["epochs"].iloc[1:], s[:-1], s[1:])
            if prev and cur and prev != cur]


def _gain_limits(table: pd.DataFrame, decayed: dict | None, article: tuple | None,
                 scale: float) -> tuple[float, float]:
    """The gain panel's frame: zero, every gain drawn, the decayed pair's
    interval and the article's gain, with a margin. A band of one or two pairs
    can be many times wider; it is cut at this frame rather than squash the
    gains into a line."""
    shown = [0.0, *table["ours"], *table["final_epoch_ours"]]
    if decayed is not None:
        shown += [decayed["ours"], decayed["ci95_low"], decayed["ci95_high"]]
    if article is not None:
        shown.append(article[1])
    v = np.asarray(shown, float) * scale
    v = v[np.isfinite(v)]
    margin = 0.25 * max(float(v.max() - v.min()), 0.02 * scale)
    return float(v.min()) - margin, float(v.max()) + margin


def figure(table: pd.DataFrame, *, decayed: dict | None = None, article: tuple | None = None,
           title: str = "", baseline: str = "baseline", scale: float = 100.0):
    """Two panels on one epoch axis (log). Top: the windowed paired gain with
    its 95 % interval as a band, the single-epoch gains as small dots, the
    decayed pair's gain (``decayed``: ``epochs``, ``ours``, ``ci95_low``,
    ``ci95_high``) and the article's single-run gain ``article = (epochs,
    gain)`` marked at their lengths. Bottom: the baseline's train - test
    accuracy gap, with the overfitting line and the epoch it is first crossed."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.2, 7.0), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    x = table["epochs"].to_numpy(float)
    n = int(table["n_pairs"].max()) if len(table) else 0
    low, high = _gain_limits(table, decayed, article, scale)
    if n >= 2:   # one pair has no interval: no band, and the legend says so
        clipped = ((table["ci95_low"] * scale < low) | (table["ci95_high"] * scale > high)).any()
        top.fill_between(x, table["ci95_low"] * scale, table["ci95_high"] * scale, color="C0",
                         alpha=0.2, lw=0, label="95 % t interval (paired by seed)"
                         + ("; wider than the frame where it is cut" if clipped else ""))
    pairs = f"n = {n} pair{'s' if n != 1 else ''}" + ("" if n >= 2 else ", no interval")
    top.plot(x, table["ours"] * scale, "-", color="C0", lw=1.8,
             label=f"ours, long runs: gain in {stats.WINDOW_NAME}\n({pairs})")
    top.plot(x, table["final_epoch_ours"] * scale, ".", color="C0", ms=3, alpha=0.6,
             label="ours, long runs: gain at that single epoch")
    ticks = set(report_lengths(int(x.max()) if len(x) else 1))
    if decayed is not None:
        e = decayed["epochs"]
        # a hollow marker and the numbers beside it: on a wide gain axis a short
        # interval would hide under a filled one
        top.errorbar([e], [decayed["ours"] * scale],
                     yerr=[[(decayed["ours"] - decayed["ci95_low"]) * scale],
                           [(decayed["ci95_high"] - decayed["ours"]) * scale]],
                     fmt="s", color="C2", mfc="none", mew=1.5, elinewidth=2, capsize=5, ms=5,
                     zorder=4, label=f"ours, both arms ending on a decay ({e} epochs, "
                                     f"n = {decayed.get('n_pairs', '?')} pairs)")
        top.annotate(f"{decayed['ours'] * scale:+.2f} [{decayed['ci95_low'] * scale:+.2f}, "
                     f"{decayed['ci95_high'] * scale:+.2f}]", (e, decayed["ci95_high"] * scale),
                     xytext=(0, 8), textcoords="offset points", ha="center", va="bottom",
                     fontsize=7, color="C2", zorder=5,
                     bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                           "alpha": 0.8})
        ticks.add(int(e))
    if article is not None:
        e, gain = article
        top.plot([e], [gain * scale], "D", color="C3", mfc="none", mew=1.8, ms=7, zorder=4,
                 label=f"article, one run each ({e:g} epochs)")
        ticks.add(int(e))
    first = overfit_epoch(table)
    if first is not None:
        # the epoch the baseline starts to overfit: not where the gain changes sign
        top.axvline(first, color="C1", ls="--", lw=0.8,
                    label=f"{baseline} reaches the overfitting line (epoch {first})")
    top.axhline(0, color="k", lw=0.8)
    top.set_ylim(low, high)
    top.set_ylabel("gain (points)")
    top.grid(alpha=0.3)
    # above the panel: inside it, the legend would hide part of the band
    top.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False)
    fig.suptitle(title, fontsize=10)
    bottom.plot(x, table["baseline_train_test_gap"] * scale, "-", color="C1", lw=1.6,
                label=f"{baseline}: train − test accuracy "
                      f"({'mean over ' + str(n) + ' seeds' if n > 1 else 'one seed'})")
    bottom.axhline(OVERFIT_GAP * scale, color="C1", ls=":", lw=1,
                   label=f"overfitting line ({OVERFIT_GAP * scale:g} points)")
    if first is not None:
        bottom.axvline(first, color="C1", ls="--", lw=0.8)
        bottom.annotate(f"crossed at epoch {first}", (first, OVERFIT_GAP * scale),
                        xytext=(4, 4), textcoords="offset points", fontsize=7, color="C1")
    elif table["baseline_train_test_gap"].notna().any():
        peak = table["baseline_train_test_gap"].max() * scale
        bottom.annotate(f"not reached (at most {peak:.1f} points)", (x.max(), OVERFIT_GAP * scale),
                        xytext=(0, -4), textcoords="offset points", ha="right", va="top",
                        fontsize=7, color="C1")
    # the overfitting line inside the panel, with room for its annotation
    low, high = bottom.get_ylim()
    bottom.set_ylim(low, max(high, OVERFIT_GAP * scale * 1.25))
    bottom.axhline(0, color="k", lw=0.8)
    bottom.set_ylabel("train − test (points)")
    bottom.set_xlabel("epochs trained")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=7, loc="lower right")   # the gap rises rightwards to the line
    bottom.set_xscale("log")
    ticks = sorted(ticks)
    bottom.set_xticks(ticks, [str(t) for t in ticks])
    bottom.xaxis.set_minor_formatter(plt.NullFormatter())
    bottom.set_xlim(0.8, max(ticks) * 1.3)
    fig.tight_layout()
    return fig

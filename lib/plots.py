"""Figures shared by the notebooks (matplotlib; one function per kind)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
import pandas as pd

from .data import CLASSES


def mixed_samples(anchors, partners, mixed, anchor_labels, partner_labels, r, n: int = 8):
    """Three rows: anchor, its partner, and the mix, titled with the classes
    and the anchor weight r. Images are floats in [0, 1] or uint8."""
    n = min(n, len(mixed))
    fig, axes = plt.subplots(3, n, figsize=(1.5 * n, 5.0))
    rows = (("anchor", anchors, anchor_labels), ("partner", partners, partner_labels),
            ("mixed", mixed, None))
    for i, (name, imgs, labels) in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            img = np.asarray(imgs[j], np.float32)
            ax.imshow(np.clip(img / (255.0 if img.max() > 1.5 else 1.0), 0, 1))
            ax.set_xticks([]), ax.set_yticks([])
            if labels is not None:
                ax.set_title(CLASSES[labels[j]], fontsize=8)
            else:
                ax.set_title(f"r={r[j]:.2f}", fontsize=8)
        axes[i, 0].set_ylabel(name)
    fig.suptitle("BC mixing: anchor weight r ≥ 0.5, partner from another class")
    fig.tight_layout()
    return fig


def error_curves(hist: pd.DataFrame, by: str, title: str = "", col_wrap: int = 4):
    """Train (dashed) and test (solid) error per epoch, one panel per ``by``
    value; the line is the mean over seeds, the band its min–max."""
    keys = sorted(hist[by].unique())
    ncol = min(col_wrap, len(keys))
    nrow = int(np.ceil(len(keys) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.8 * nrow),
                             sharex=True, sharey=True, squeeze=False)
    for ax, key in zip(axes.flat, keys):
        h = hist[hist[by] == key]
        n = h["seed"].nunique() if "seed" in h else 1
        for col, style, label in (("accuracy", "--", "train"), ("test_accuracy", "-", "test")):
            g = (1.0 - h[col]).groupby(h["epoch"])
            line, = ax.plot(g.mean().index, g.mean().values, style, label=label)
            if n > 1:
                ax.fill_between(g.mean().index, g.min().values, g.max().values,
                                color=line.get_color(), alpha=0.2)
        ax.set_title(f"{by} {key} (n={n})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[:, 0]:
        ax.set_ylabel("error")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title or "train (dashed) and test (solid) error; band = min–max over seeds")
    fig.tight_layout()
    return fig


def versus_article(summary: pd.DataFrame, by: str, metric: str = "final_test_accuracy",
                   title: str = "", table: pd.DataFrame | None = None):
    """Our mean ± std per ``by`` value beside the article's single number;
    with ``table`` (one row per run) each seed is drawn as a small dot."""
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * len(summary), 3.6))
    x = np.arange(len(summary))
    if table is not None:
        for i, key in enumerate(summary[by]):
            vals = table.loc[table[by] == key, metric]
            ax.plot(np.full(len(vals), i - 0.25), vals, ".", color="0.5",
                    label="ours, each seed" if i == 0 else None)
    ax.errorbar(x - 0.1, summary[f"{metric}_mean"], yerr=summary[f"{metric}_std"].fillna(0),
                fmt="o", capsize=4, label="ours (mean ± std over seeds)")
    if "article" in summary:
        ax.plot(x + 0.1, summary["article"], "s", color="C3", label="article (one run)")
    ax.set_xticks(x, [f"{by} {k}\nn={n}" for k, n in zip(summary[by], summary["n_seeds"])],
                  fontsize=8)
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def box_with_points(table: pd.DataFrame, by: str, metric: str, order, labels=None,
                    title: str = "", ref: dict | None = None):
    """Box plot per group with every run drawn as a jittered dot."""
    order = [k for k in order if k in set(table[by])]
    data = [table.loc[table[by] == k, metric].to_numpy() for k in order]
    fig, ax = plt.subplots(figsize=(1.2 + 1.5 * len(order), 3.8))
    ax.boxplot(data, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, 1):
        ax.plot(i + rng.uniform(-0.12, 0.12, len(d)), d, "o", ms=4, alpha=0.7, color="C0")
    names = [textwrap.fill(labels.get(k, k) if labels else k, 16) for k in order]
    ax.set_xticks(range(1, len(order) + 1),
                  [f"{n}\nn={len(d)}" for n, d in zip(names, data)], fontsize=8)
    for y, (text, color) in (ref or {}).items():
        ax.axhline(y, ls=":", color=color)
        ax.text(0.55, y, text, color=color, fontsize=8, va="bottom")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def progress_animation(hist: pd.DataFrame, by: str, order, path, labels=None, fps: int = 4):
    """GIF of accuracy per epoch growing over time: one panel per group, one
    line per run, train dotted and test solid. Returns the saved path."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    order = [k for k in order if k in set(hist[by])]
    epochs = int(hist["epoch"].max())
    fig, axes = plt.subplots(1, len(order), figsize=(2.8 * len(order), 3.0), sharey=True,
                             squeeze=False)
    lines = []
    for ax, key in zip(axes[0], order):
        h = hist[hist[by] == key]
        for i, (_, run) in enumerate(h.groupby("seed")):
            color = f"C{i % 10}"
            tr, = ax.plot([], [], ":", color=color, lw=1)
            te, = ax.plot([], [], "-", color=color, lw=1)
            lines.append((run.sort_values("epoch"), tr, te))
        ax.set_xlim(1, max(epochs, 2))
        ax.set_title(labels.get(key, key) if labels else key, fontsize=8)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    lo = min(hist["accuracy"].min(), hist["test_accuracy"].min())
    axes[0, 0].set_ylim(max(0.0, lo - 0.02), min(1.0, hist[["accuracy", "test_accuracy"]].max().max() + 0.02))
    axes[0, 0].set_ylabel("accuracy (train dotted, test solid)")
    fig.tight_layout(rect=(0, 0, 1, 0.9))   # room for the epoch counter

    def draw(frame):
        for run, tr, te in lines:
            r = run[run["epoch"] <= frame + 1]
            tr.set_data(r["epoch"], r["accuracy"])
            te.set_data(r["epoch"], r["test_accuracy"])
        fig.suptitle(f"epoch {frame + 1}/{epochs}", fontsize=9)
        return [l for _, tr, te in lines for l in (tr, te)]

    anim = FuncAnimation(fig, draw, frames=epochs, blit=False)
    anim.save(path, writer=PillowWriter(fps=fps))
    plt.close(fig)
    return path


def learning_curves(hist: pd.DataFrame, by: str, labels: dict | None = None, title: str = ""):
    """Accuracy (top row) and loss (bottom row) per epoch, one column per
    ``by`` value: train dashed, test solid, mean over seeds, band min–max."""
    keys = sorted(hist[by].unique())
    fig, axes = plt.subplots(2, len(keys), figsize=(2.4 * len(keys), 4.8), sharex=True,
                             sharey="row", squeeze=False)
    for j, key in enumerate(keys):
        h = hist[hist[by] == key]
        n = h["seed"].nunique()
        for i, (tr, te) in enumerate((("accuracy", "test_accuracy"), ("loss", "test_loss"))):
            ax = axes[i, j]
            for col, style, name in ((tr, "--", "train"), (te, "-", "test")):
                g = h[col].groupby(h["epoch"])
                line, = ax.plot(g.mean().index, g.mean().values, style, label=name)
                if n > 1:
                    ax.fill_between(g.mean().index, g.min().values, g.max().values,
                                    color=line.get_color(), alpha=0.2)
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0, j].set_title(f"{key} {labels.get(key, '') if labels else ''}\n(n={n})", fontsize=8)
        axes[1, j].set_xlabel("epoch")
    axes[0, 0].set_ylabel("accuracy")
    axes[1, 0].set_ylabel("loss")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title or "train (dashed) and test (solid); band = min–max over seeds", fontsize=10)
    fig.tight_layout()
    return fig


def bars_vs_article(summary: pd.DataFrame, table: pd.DataFrame, by: str, labels: dict | None = None,
                    metric: str = "final_test_accuracy", title: str = ""):
    """Bars of our mean ± std over seeds (each seed a dot) with the article's
    single value marked beside each bar."""
    # the legend sits outside the axes, so few bars still need a wide figure
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 + 1.0 * len(summary)), 3.8))
    x = np.arange(len(summary))
    ax.bar(x, summary[f"{metric}_mean"], width=0.6, yerr=summary[f"{metric}_std"].fillna(0),
           capsize=4, color="C0", alpha=0.7, label="ours: mean ± std over seeds")
    for i, key in enumerate(summary[by]):
        vals = table.loc[table[by] == key, metric]
        ax.plot(np.full(len(vals), i), vals, ".", color="k", ms=4,
                label="ours: each seed" if i == 0 else None)
    if "article" in summary:
        ax.plot(x + 0.38, summary["article"], "_", ms=18, mew=3, color="C3", label="article (one run)")
    names = [f"{k}\n{labels.get(k, '') if labels else ''}\nn={n}"
             for k, n in zip(summary[by], summary["n_seeds"])]
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    fig.tight_layout()
    return fig


def gains(changes: pd.DataFrame, title: str = ""):
    """Horizontal bars of each change's mean gain with its 95% interval, one
    row per ``changes`` row (``lib.report.changes`` output), verdict beside."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(changes) + 1.2))
    y = np.arange(len(changes))[::-1]
    ours = changes["ours"].to_numpy() * 100
    lo = (changes["ours"] - changes["ci95_low"]).fillna(0).to_numpy() * 100
    hi = (changes["ci95_high"] - changes["ours"]).fillna(0).to_numpy() * 100
    colors = ["C2" if v == "helps" else "C3" if v == "hurts" else "0.6" for v in changes["verdict"]]
    ax.barh(y, ours, color=colors, alpha=0.8, xerr=[lo, hi], capsize=3)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, [f"{c} ({s})" for c, s in zip(changes["change"], changes["seeds"])], fontsize=8)
    for yi, v in zip(y, changes["verdict"]):
        ax.annotate(v, (1.0, yi), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_xlabel("change in final test accuracy (points), 95% Welch interval")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def lr_curves(hist: pd.DataFrame, by: str, keys, labels: dict | None = None):
    """Learning rate per epoch (log scale) of the ``keys`` groups, every seed
    drawn (a plateau schedule can differ between seeds)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for i, key in enumerate(keys):
        h = hist[hist[by] == key]
        for j, (_, run) in enumerate(h.groupby("seed")):
            ax.plot(run["epoch"], run["lr"], "o-", ms=3, color=f"C{i}", alpha=0.7,
                    label=(labels or {}).get(key, key) if j == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate at the epoch's start")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_vs_cost(arch: pd.DataFrame, metric: str = "final_test_accuracy", title: str = ""):
    """Two panels, accuracy (mean ± std over seeds) against batch-1 latency
    (median, 10th–90th percentile bar) and against parameter count. ``arch``
    has one row per model: model, params, latency_ms_*, ``metric``_mean/_std."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    yerr = arch[f"{metric}_std"].fillna(0)
    xerr = [arch["latency_ms_median"] - arch["latency_ms_p10"],
            arch["latency_ms_p90"] - arch["latency_ms_median"]]
    for ax, x, err, label in ((axes[0], arch["latency_ms_median"], xerr,
                               "batch-1 inference latency (ms): median, 10–90th pct"),
                              (axes[1], arch["params"], None, "parameters")):
        for i, row in enumerate(arch.itertuples()):
            ax.errorbar(x.iloc[i], getattr(row, f"{metric}_mean"), yerr=yerr.iloc[i],
                        xerr=None if err is None else [[err[0].iloc[i]], [err[1].iloc[i]]],
                        fmt="o", capsize=4, color=f"C{i}", label=f"{row.model} (n={row.n_seeds})")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[1].set_xscale("log")   # sizes span orders of magnitude; latencies do not
    axes[1].set_xticks(arch["params"], [f"{p / 1e3:,.0f}k" for p in arch["params"]])
    axes[1].xaxis.set_minor_formatter(plt.NullFormatter())
    axes[0].set_ylabel(f"{metric.replace('_', ' ')} (mean ± std)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

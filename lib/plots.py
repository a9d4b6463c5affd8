"""Figures shared by the notebooks (matplotlib; one function per kind)."""

from __future__ import annotations

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

"""Figures shared by the notebooks (matplotlib), one function per kind of
figure. Every function returns the figure (``progress_animation`` the path
of the saved GIF); saving is ``lib.analysis.report.save_figure``, and saving
and showing in a notebook ``lib.analysis.notebook.show_figure``.

Consistent with the inference (``lib.analysis.stats``): comparisons are drawn
as differences with their 95 % interval and the article's change marked;
levels on an axis fitted to our runs (the article's values off that axis are
written at its edge, never stretched to); one-seed arms hollow, and notes
(confounds) written inside the figure."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ..training.data import CLASSES
from .stats import TEST_NAMES, Test, Verdict, n_text, verdict_text

VERDICT_COLORS = {Verdict.HELPS: "C2", Verdict.HURTS: "C3"}
VERDICT_KEY = "colour: green helps, red hurts, grey inconclusive"   # for legends of verdict-coloured points


def _label(key, labels: dict | None) -> str:
    """``"<key> <label>"``, or the key alone without a label."""
    text = (labels or {}).get(key)
    return f"{key} {text}" if text and str(text) != str(key) else str(key)


def _as_float_image(img) -> np.ndarray:
    img = np.asarray(img, np.float32)
    return np.clip(img / (255.0 if img.max() > 1.5 else 1.0), 0, 1)


def soft_label_text(soft, k: int = 2) -> str:
    """The ``k`` largest entries of a soft label as "class weight" lines."""
    soft = np.asarray(soft, float)
    top = np.argsort(soft)[::-1][:k]
    return "\n".join(f"{CLASSES[c]} {soft[c]:.2f}" for c in top if soft[c] > 0)


def image_grid(rows, titles=None, row_labels=None, title: str = "", size: float = 1.5):
    """A grid of images, one list of images per row; ``titles`` (same shape,
    strings, may contain line breaks, e.g. :func:`soft_label_text`) are
    drawn above each image. Images are floats in [0, 1] or 0..255."""
    nrow, ncol = len(rows), max(len(r) for r in rows)
    lines = max((str(t).count("\n") + 1 for row in (titles or []) for t in (row or [])), default=0)
    fig, axes = plt.subplots(nrow, ncol, figsize=(size * ncol, (size + 0.2 + 0.15 * lines) * nrow),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j in range(ncol):
            ax = axes[i, j]
            ax.set_xticks([]), ax.set_yticks([])
            if j >= len(row):
                ax.axis("off")
                continue
            ax.imshow(_as_float_image(row[j]))
            if titles is not None and titles[i] is not None:
                ax.set_title(titles[i][j], fontsize=7)
        if row_labels is not None:
            axes[i, 0].set_ylabel(row_labels[i], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def learning_curves(hist: pd.DataFrame, by: str, labels: dict | None = None, error: bool = False,
                    loss: bool | None = None, order=None, title: str = "", col_wrap: int = 4):
    """Per-epoch curves, one panel column per ``by`` value (wrapped after
    ``col_wrap``): accuracy, or error (1 − accuracy) with ``error=True``, and
    below it the loss (default: when not ``error``). Train dashed, test solid;
    the line is the mean over seeds, the band its min–max."""
    keys = [k for k in (order if order is not None else sorted(hist[by].unique()))
            if k in set(hist[by])]
    loss = (not error) if loss is None else loss
    quantities = [("error" if error else "accuracy", "accuracy", "test_accuracy")]
    if loss:
        quantities.append(("loss", "loss", "test_loss"))
    nq, ncol = len(quantities), min(col_wrap, len(keys))
    nblock = int(np.ceil(len(keys) / ncol))
    fig, axes = plt.subplots(nblock * nq, ncol, figsize=(2.9 * ncol, 2.3 * nblock * nq + 0.6),
                             sharex=True, squeeze=False)
    for k, key in enumerate(keys):
        h = hist[hist[by] == key]
        n = h["seed"].nunique() if "seed" in h else 1
        for q, (name, tr, te) in enumerate(quantities):
            ax = axes[(k // ncol) * nq + q, k % ncol]
            for col, style, part in ((tr, "--", "train"), (te, "-", "test")):
                values = 1.0 - h[col] if name == "error" else h[col]
                g = values.groupby(h["epoch"])
                line, = ax.plot(g.mean().index, g.mean().values, style, label=part)
                if n > 1:
                    ax.fill_between(g.mean().index, g.min().values, g.max().values,
                                    color=line.get_color(), alpha=0.2)
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(name, fontsize=8)
            if q == 0:
                ax.set_title(f"{textwrap.fill(_label(key, labels), 28)} (n={n})", fontsize=8)
    for q in range(nq):   # one y scale per quantity
        row_axes = [axes[b * nq + q, c] for b in range(nblock) for c in range(ncol)
                    if b * ncol + c < len(keys)]
        for ax in row_axes[1:]:
            ax.sharey(row_axes[0])
        row_axes[0].autoscale_view(scalex=False)   # over every shared panel's data
    for k in range(len(keys), nblock * ncol):
        for q in range(nq):
            axes[(k // ncol) * nq + q, k % ncol].axis("off")
    for c in range(ncol):
        last = max(b for b in range(nblock) if b * ncol + c < len(keys))
        axes[last * nq + nq - 1, c].set_xlabel("epoch")
        axes[last * nq + nq - 1, c].xaxis.set_tick_params(labelbottom=True)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title or "train (dashed) and test (solid); band = min–max over seeds", fontsize=10)
    fig.tight_layout()
    return fig


def _fit_limits(values, pad: float = 0.12) -> tuple[float, float]:
    """y limits that show ``values`` (nan ignored) and their differences."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    span = max(hi - lo, 0.01)   # a flat set still gets an axis
    return lo - pad * span, hi + pad * span


def _article_levels(ax, x, values, lo: float, hi: float, marker: str = "_", ms: float = 28,
                    label: str = "article (one run)") -> int:
    """The article's levels at ``x``: marked where they fall inside ``lo``..``hi``
    (our axis), written at the axis edge with an arrow where they do not, so
    the axis is never stretched to them. Returns how many lie off the axis."""
    pts = [(xi, float(v)) for xi, v in zip(x, values) if v is not None and np.isfinite(float(v))]
    inside = [(xi, v) for xi, v in pts if lo <= v <= hi]
    outside = [(xi, v) for xi, v in pts if not lo <= v <= hi]
    if inside:
        ax.plot([p[0] for p in inside], [p[1] for p in inside], marker, ls="none", ms=ms,
                mew=2.5 if marker == "_" else 1.0, color="C3", zorder=5)
    for xi, v in outside:
        above = v > hi
        ax.annotate(f"article\n{v:.3f} {'↑' if above else '↓'}", (xi, 1.0 if above else 0.0),
                    xycoords=("data", "axes fraction"), xytext=(0, -3 if above else 3),
                    textcoords="offset points", ha="center", va="top" if above else "bottom",
                    fontsize=7, color="C3")
    if pts:
        handle = dict(ls="-", lw=2.5) if marker == "_" else dict(ls="none", marker=marker)
        if not inside:   # every value is written at the edge: the key shows the arrow, no mark
            handle = dict(ls="none", marker=r"$\uparrow$" if outside[0][1] > hi else r"$\downarrow$")
        ax.plot([], [], color="C3", label=label + ("; off this axis: its value at the edge"
                                                   if outside else ""), **handle)
    return len(outside)


def levels_vs_article(summary: pd.DataFrame, table: pd.DataFrame, by: str,
                      labels: dict | None = None, metric: str = "final_test_accuracy",
                      title: str = "", notes: dict | None = None):
    """Each arm's level: every seed a dot, the mean ± std over seeds
    (``lib.stats.summarize`` output) as a point with a bar, hollow and without
    a bar for an arm with one seed. The axis fits our runs, so it shows the
    arms' differences; the article's single value (its ``article`` column) is
    marked over its arm where it falls on that axis and written at the edge
    where it does not. ``notes`` (arm -> text, e.g. "8× the images") are
    written inside the figure under their arm."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 + 1.3 * len(summary)), 3.8))
    x = np.arange(len(summary))
    mean = summary[f"{metric}_mean"].to_numpy(float)
    std = summary[f"{metric}_std"].to_numpy(float)
    single = (summary["n_seeds"] == 1).to_numpy()
    for i, key in enumerate(summary[by]):
        vals = table.loc[table[by] == key, metric]
        ax.plot(np.full(len(vals), i + 0.12), vals, ".", color="k", ms=4,
                label="ours: each seed" if i == 0 else None)
    if (~single).any():
        ax.errorbar(x[~single], mean[~single], yerr=np.nan_to_num(std[~single]), fmt="o", ms=7,
                    capsize=5, color="C0", label="ours: mean ± std over seeds")
    if single.any():
        ax.plot(x[single], mean[single], "o", ms=7, mfc="white", mec="C0", mew=1.5,
                label="one seed only: no spread")
    lo, hi = _fit_limits(np.concatenate([table.loc[table[by].isin(summary[by]), metric],
                                         mean - np.nan_to_num(std), mean + np.nan_to_num(std)]))
    span = hi - lo
    notes = {k: v for k, v in (notes or {}).items() if v and k in set(summary[by])}
    art = summary["article"].to_numpy(float) if "article" in summary else np.full(len(x), np.nan)
    off = np.isfinite(art) & ((art > hi) | (art < lo))
    lo -= 0.22 * span if notes else 0.0                 # room for the notes ...
    hi += 0.2 * span if (off & (art > hi)).any() else 0.0   # ... and the article's values
    lo -= 0.2 * span if (off & (art < lo)).any() else 0.0
    ax.set_ylim(lo, hi)
    _article_levels(ax, x, art, lo, hi)
    for i, key in enumerate(summary[by]):
        if key in notes:
            ax.annotate(textwrap.fill(notes[key], 16), (i, 0.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                        fontsize=7, color="C1", style="italic")
    names = [f"{textwrap.fill(_label(k, labels), 13)}\nn={n}" for k, n in zip(summary[by], summary["n_seeds"])]
    ax.set_xticks(x, names, fontsize=8)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    fig.tight_layout()
    return fig


def gains(changes: pd.DataFrame, title: str = "", scale: float = 100.0,
          xlabel: str = "change in final test accuracy (points)", notes: dict | None = None,
          decayed: pd.DataFrame | None = None):
    """Each change of a ``lib.stats.compare_many`` table as a point with its
    95 % interval (coloured by verdict: green helps, red hurts, grey
    otherwise), the article's change marked beside, the verdict at the right.
    A change without an interval (one run on a side, or no spread) is drawn
    hollow and says so inside the figure; ``notes`` ((from, to) -> text,
    e.g. "confounded: 8× the images") are written under their point.
    ``decayed``: the same changes with both arms ending on a learning-rate
    decay (a ``compare_many`` table, matched by from/to), drawn as squares
    under their row with their own verdict and n at the right."""
    names = [f"{textwrap.fill(str(row['change']), 30)}\n"
             f"({TEST_NAMES[Test(row['test'])]}, {n_text(row, sep='=')})"
             for _, row in changes.iterrows()]
    lines = max((n.count("\n") + 1 for n in names), default=1)   # room for the longest label
    quiet = {} if decayed is None else {(r["from"], r["to"]): r for _, r in decayed.iterrows()}
    rows_h = max(0.5, 0.14 * lines + 0.1) + (0.15 if quiet else 0)
    fig, ax = plt.subplots(figsize=(8.5, rows_h * len(changes) + 1.4))
    y = np.arange(len(changes))[::-1]
    ours = changes["ours"].to_numpy(float) * scale
    lo = (changes["ours"] - changes["ci95_low"]).to_numpy(float) * scale
    hi = (changes["ci95_high"] - changes["ours"]).to_numpy(float) * scale
    bare = ~(np.isfinite(lo) & np.isfinite(hi)) | (changes["se"].to_numpy(float) == 0)
    for yi, o, l, h, v, b in zip(y, ours, lo, hi, changes["verdict"], bare):
        color = VERDICT_COLORS.get(v, "0.45")
        if b:
            ax.plot(o, yi, "o", mfc="white", mec=color, mew=1.5, ms=7)
        else:
            ax.errorbar(o, yi, xerr=[[l], [h]], fmt="o", capsize=4, color=color)
    ax.plot([], [], "o", color="0.45", label=f"ours: mean change, 95 % t interval ({VERDICT_KEY})")
    if bare.any():
        ax.plot([], [], "o", mfc="white", mec="0.45", mew=1.5, label="ours: no interval")
    for yi, (_, row) in zip(y, changes.iterrows()):
        d = quiet.get((row["from"], row["to"]))
        if d is not None:
            color = VERDICT_COLORS.get(d["verdict"], "0.45")
            ax.errorbar(d["ours"] * scale, yi - 0.3,
                        xerr=[[(d["ours"] - d["ci95_low"]) * scale],
                              [(d["ci95_high"] - d["ours"]) * scale]],
                        fmt="s", ms=5, capsize=3, color=color)
    if quiet:
        ax.plot([], [], "s", color="0.45", ms=5,
                label="ours, both arms ending on a decay (95 % t interval)")
    if "article" in changes and changes["article"].notna().any():
        # a little above the row, so an article value equal to ours does not hide our point
        ax.plot(changes["article"].to_numpy(float) * scale, y + 0.18, "D", color="C3", ms=6,
                mfc="none", mew=1.5, label="article (one run each)")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, names, fontsize=7)
    for yi, o, b, (_, row) in zip(y, ours, bare, changes.iterrows()):
        ax.annotate(textwrap.fill(verdict_text(row), 24), (1.0, yi), xycoords=("axes fraction", "data"),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=7)
        d = quiet.get((row["from"], row["to"]))
        if d is not None:
            ax.annotate(textwrap.fill(f"■ + decay ({n_text(d, sep='=')}): {verdict_text(d)}", 36),
                        (1.0, yi - 0.3), xycoords=("axes fraction", "data"), xytext=(6, -2),
                        textcoords="offset points", va="top", fontsize=6.5)
        note = [(notes or {}).get((row["from"], row["to"]), "")]
        if b:
            note.insert(0, "one run on a side: no interval" if Test(row["test"]) is Test.NONE
                        else "no spread: no interval")
        note = "; ".join(n for n in note if n)
        if note:   # at the left edge, under the row's line: clear of points and labels
            ax.annotate(note, (0.0, yi), xycoords=("axes fraction", "data"), xytext=(4, -6),
                        textcoords="offset points", ha="left", va="top", fontsize=6.5,
                        color="C1", style="italic")
    ax.set_ylim(-0.7, len(changes) - 0.3)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2 if quiet else 3,
              frameon=False)
    ax.set_title(title, fontsize=10, pad=34 if quiet else 22)
    fig.tight_layout()
    return fig


def sweep(summary: pd.DataFrame, x: str, table: pd.DataFrame | None = None,
          metric: str = "final_test_accuracy", article: dict | None = None, xlabel: str | None = None,
          title: str = ""):
    """``metric`` (mean ± std over seeds, ``lib.stats.summarize`` output)
    against a numeric parameter ``x``, each run a grey dot, the article's
    values as red squares."""
    s = summary.sort_values(x)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    line = ax.errorbar(s[x], s[f"{metric}_mean"], yerr=s[f"{metric}_std"].fillna(0), fmt="-",
                       capsize=4, label="ours: mean ± std")
    color = line.lines[0].get_color()
    n = s["n_seeds"] if "n_seeds" in s else pd.Series(2, index=s.index)
    single = (n == 1).to_numpy()
    ax.plot(s[x][~single], s[f"{metric}_mean"][~single], "o", color=color)
    if single.any():   # one run: no spread, so no error bar; drawn hollow
        ax.plot(s[x][single], s[f"{metric}_mean"][single], "o", mfc="white", mec=color, mew=1.5,
                label="one run only (n=1): no spread")
    if "n_seeds" in s:
        for xi, yi, ni in zip(s[x], s[f"{metric}_mean"], n):
            ax.annotate(f"n={ni}", (xi, yi), xytext=(5, 5), textcoords="offset points", fontsize=7,
                        color=color)
    if table is not None:
        ax.plot(table[x], table[metric], ".", color="0.5", label="each seed")
    # the axis fits our runs; the article's values off it are written at its edge
    mean, std = s[f"{metric}_mean"], s[f"{metric}_std"].fillna(0)
    lo, hi = _fit_limits(np.concatenate([mean - std, mean + std] + (
        [table[metric].to_numpy(float)] if table is not None else [])))
    art = {k: v for k, v in (article or {}).items() if v is not None}
    if any(v > hi for v in art.values()):
        hi += 0.25 * (hi - lo)
    if any(v < lo for v in art.values()):
        lo -= 0.25 * (hi - lo)
    ax.set_ylim(lo, hi)
    _article_levels(ax, list(art), list(art.values()), lo, hi, marker="s", ms=6)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_xticks(s[x])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def gradient_check(analytic, grads: dict, entropy, value_gaps):
    """Two panels: numerical loss gradients w.r.t. the logits against the
    analytic softmax(z) − t, one marker per loss in ``grads``; and the
    per-sample difference of two losses' values (``value_gaps``) against the
    targets' entropy H(t), with the line difference = H(t)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    styles = [dict(marker="o", ms=5, mfc="none"), dict(marker=".", ms=3), dict(marker="x", ms=3, alpha=0.5)]
    for (name, g), st in zip(grads.items(), styles * 3):
        axes[0].plot(np.ravel(analytic), np.ravel(g), ls="none", label=name, **st)
    axes[0].set_xlabel("softmax(z) − t")
    axes[0].set_ylabel("numerical d loss / d z")
    axes[0].set_title("gradients w.r.t. the logits", fontsize=9)
    h = np.asarray(entropy)
    axes[1].plot(h, value_gaps, "o", ms=4, label="per sample")
    axes[1].plot([0, h.max()], [0, h.max()], "k:", lw=1, label="difference = H(t)")
    axes[1].set_xlabel("entropy of the targets H(t), nats")
    axes[1].set_ylabel("CE − KL")
    axes[1].set_title("the values differ by H(t)", fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def box_with_points(table: pd.DataFrame, by: str, metric: str, order, labels=None,
                    title: str = "", ref: dict | None = None):
    """Box plot per group with every run drawn as a jittered dot; ``ref``
    maps y values to (text, colour) reference lines."""
    order = [k for k in order if k in set(table[by])]
    data = [table.loc[table[by] == k, metric].to_numpy() for k in order]
    fig, ax = plt.subplots(figsize=(1.2 + 1.5 * len(order), 3.8))
    ax.boxplot(data, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, 1):
        ax.plot(i + rng.uniform(-0.12, 0.12, len(d)), d, "o", ms=4, alpha=0.7, color="C0")
    names = [textwrap.fill(str(labels.get(k, k) if labels else k), 16) for k in order]
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


def progress_frames(hist: pd.DataFrame, by: str, order, labels=None):
    """The figure of :func:`progress_animation` and its ``draw(frame)``
    (frame k shows epochs 1 … k + 1) and frame count. Every epoch is a
    marker, so the first frame already shows each run's first epoch, and a
    key says which line is which."""
    from matplotlib.lines import Line2D

    order = [k for k in order if k in set(hist[by])]
    epochs = int(hist["epoch"].max())
    fig, axes = plt.subplots(1, len(order), figsize=(2.8 * len(order), 3.3), sharey=True,
                             squeeze=False)
    lines, seeds = [], sorted(hist["seed"].unique())
    for ax, key in zip(axes[0], order):
        h = hist[hist[by] == key]
        for seed, run in h.groupby("seed"):
            color = f"C{seeds.index(seed) % 10}"
            tr, = ax.plot([], [], ":", marker=".", ms=4, color=color, lw=1)
            te, = ax.plot([], [], "-", marker="o", ms=3, color=color, lw=1)
            lines.append((run.sort_values("epoch"), tr, te))
        ax.set_xlim(0.5, max(epochs, 2) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(textwrap.fill(str(labels.get(key, key) if labels else key), 22), fontsize=8)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    lo = min(hist["accuracy"].min(), hist["test_accuracy"].min())
    axes[0, 0].set_ylim(max(0.0, lo - 0.02), min(1.0, hist[["accuracy", "test_accuracy"]].max().max() + 0.02))
    axes[0, 0].set_ylabel("accuracy")
    key = [Line2D([], [], ls=":", marker=".", color="0.3", label="train"),
           Line2D([], [], ls="-", marker="o", ms=3, color="0.3", label="test")]
    key += [Line2D([], [], color=f"C{i % 10}", lw=2, label=f"seed {s}") for i, s in enumerate(seeds)]
    fig.legend(handles=key, loc="lower center", ncol=min(len(key), 8), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.05 * ((len(key) - 1) // 8), 1, 0.9))   # key; epoch counter

    def draw(frame):
        for run, tr, te in lines:
            r = run[run["epoch"] <= frame + 1]
            tr.set_data(r["epoch"], r["accuracy"])
            te.set_data(r["epoch"], r["test_accuracy"])
        fig.suptitle(f"epoch {frame + 1}/{epochs}", fontsize=9)
        return [l for _, tr, te in lines for l in (tr, te)]

    return fig, draw, epochs


def progress_animation(hist: pd.DataFrame, by: str, order, path, labels=None, fps: int = 2):
    """GIF of accuracy per epoch growing over time: one panel per group, one
    colour per seed, train dotted and test solid, every epoch a marker (see
    :func:`progress_frames`). Returns the saved path."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig, draw, frames = progress_frames(hist, by, order, labels)
    anim = FuncAnimation(fig, draw, frames=frames, blit=False)
    anim.save(path, writer=PillowWriter(fps=fps))
    plt.close(fig)
    return path


def lr_curves(hist: pd.DataFrame, by: str, keys, labels: dict | None = None, schedule=None,
              title: str = "", schedules: dict | None = None, notes: dict | None = None):
    """Learning rate per epoch of the ``keys`` groups (a log scale, or a
    linear one where a schedule ends at a rate of 0, which a log scale
    cannot show), every seed
    drawn (a plateau schedule can differ between seeds), each group in its
    own panel, so that no schedule hides another (a plateau that never fires
    lies exactly on a constant rate). ``schedules`` maps a key to
    ``(t, rate)``, its schedule as specified (e.g.
    ``lib.analysis.notebook.schedule_curve``: a cosine at every optimizer
    step), with ``t`` the epochs of training done (0 … epochs); ``schedule``
    gives one to every key. A schedule is drawn at ``1 + t`` so that epoch
    e's recorded starting rate sits on it (milestones inside an epoch show
    there). ``notes`` (key -> text) are written inside the key's panel."""
    scheduled = dict(schedules or {})
    if schedule is not None:
        for key in keys:
            scheduled.setdefault(key, schedule)
    n = len(keys)
    fig, axes = plt.subplots(1, n, figsize=(5.5 if n == 1 else 0.6 + 3.1 * n, 3.3),
                             sharey=True, squeeze=False)
    end = max((1 + float(t[-1]) for t, _ in (v for v in scheduled.values() if v is not None)),
              default=None)
    to_zero = any(np.nanmin(np.asarray(v[1], float)) <= 0 for v in scheduled.values() if v is not None)
    for i, (ax, key) in enumerate(zip(axes[0], keys)):
        color, sched = f"C{i}", scheduled.get(key)
        if sched is not None:
            t, rate = (np.asarray(v, float) for v in sched)
            ax.step(1 + t, rate if to_zero else np.where(rate > 0, rate, np.nan), where="post",
                    color="0.5", lw=1,
                    label="as scheduled (per optimizer step)")
        h = hist[hist[by] == key]
        for j, (_, run) in enumerate(h.groupby("seed")):
            # beside a step schedule, a line between epochs' starting rates would mislead
            ax.plot(run["epoch"], run["lr"], "o" if sched is not None else "o-", ms=3,
                    color=color, alpha=0.7,
                    label=((labels or {}).get(key, key) if n == 1 else "recorded at each epoch's start")
                    if j == 0 else None)
        if n > 1:
            ax.set_title(textwrap.fill(str((labels or {}).get(key, key)), 30), fontsize=9)
        if (notes or {}).get(key):
            ax.text(0.03, 0.04, textwrap.fill(notes[key], 34), transform=ax.transAxes, fontsize=7,
                    color="C1", style="italic", va="bottom")
        if not to_zero:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if n == 1 or i == 0:
            ax.legend(fontsize=7 if n > 1 else 8)
    axes[0, 0].set_ylabel("learning rate at the epoch's start")
    recorded = hist.loc[hist[by].isin(keys) & (hist["lr"] > 0), "lr"]
    if len(recorded):
        top = max([recorded.max(), *(np.nanmax(np.asarray(v[1], float))
                                     for v in scheduled.values() if v is not None)])
        axes[0, 0].set_ylim(*((0, top * 1.1) if to_zero else (recorded.min() / 30, top * 2)))
    if end is not None:
        # the schedule's last step ends at 1 + epochs: tick it as the end of
        # training, not as one more epoch
        for ax in axes[0]:
            ticks = [x for x in ax.get_xticks() if 1 <= x < end]
            ax.set_xticks([*ticks, end], [*(f"{x:g}" for x in ticks), "end"])
            ax.set_xlim(0.5, end + 0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def effect_vs_budget(rows: pd.DataFrame, article: tuple | None = None, scale: float = 100.0,
                     title: str = "", ylabel: str = "gain in final test accuracy (points)",
                     article_label: str = "article (one run each)", profile_epochs=None):
    """The gain of one arm over another against the length of training:
    ``rows`` (``lib.stats.compare_by_budget`` output: ``epochs``, ``ours``,
    ``ci95_low``/``ci95_high``, ``n_pairs``/``n_a``/``n_b``, ``verdict``) as
    points with their 95 % intervals on a log epoch axis (coloured by verdict
    as in :func:`gains`; without an interval hollow, noted "n=1"), and the
    article's single-run gain ``article = (epochs, gain)`` as a red diamond;
    ``profile_epochs``, the length the notebook's other comparisons use, a
    dotted vertical line."""
    r = rows.sort_values("epochs")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    x = r["epochs"].to_numpy(float)
    y = r["ours"].to_numpy(float) * scale
    ax.plot(x, y, "-", color="0.6", lw=1, zorder=1)
    n = [p if p else min(a, b) for p, a, b in zip(r["n_pairs"], r["n_a"], r["n_b"])]
    for xi, yi, lo, hi, v, ni in zip(x, y, r["ci95_low"], r["ci95_high"], r["verdict"], n):
        color = VERDICT_COLORS.get(v, "0.35")
        if np.isfinite(lo) and np.isfinite(hi):
            ax.errorbar(xi, yi, yerr=[[yi - lo * scale], [hi * scale - yi]], fmt="o", capsize=4,
                        color=color, zorder=3)
        else:   # one run (or no spread): no interval
            ax.plot(xi, yi, "o", mfc="white", mec=color, mew=1.5, zorder=3)
        ax.annotate(f"n={ni}", (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=7)
    ax.plot([], [], "o", color="0.35", label=f"ours: paired gain, 95 % t interval\n({VERDICT_KEY})")
    if any(not np.isfinite(v) for v in r["ci95_low"]):
        ax.plot([], [], "o", mfc="white", mec="0.35", mew=1.5,
                label="ours: no interval (one run, or no spread)")
    ticks = sorted(set(x.astype(int)))
    if article is not None:
        ep, gain = article
        ax.plot([ep], [gain * scale], "D", color="C3", ms=7, mfc="none", mew=1.8, zorder=4,
                label=f"{article_label}, {ep:g} epochs")
        ticks = sorted(set(ticks) | {int(ep)})
    if profile_epochs is not None:
        ax.axvline(profile_epochs, color="0.5", ls=":", lw=1.2, zorder=0,
                   label=f"this profile's length ({profile_epochs:g} epochs)")
    ax.axhline(0, color="k", lw=0.8)
    ax.margins(y=0.12)   # room for the "n=" labels above the highest point
    ax.set_xscale("log")
    ax.set_xlim(min(ticks) / 1.6, max(ticks) * 1.6)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel("epochs of training (log scale)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def minmax_per_image(images) -> np.ndarray:
    """Each image stretched to [0, 1] on its own (min → 0, max → 1): for
    display of images that are not pixel values, e.g. BC+ mixes (zero-mean,
    rescaled)."""
    x = np.asarray(images, np.float32)
    lo = x.min(axis=tuple(range(1, x.ndim)), keepdims=True)
    hi = x.max(axis=tuple(range(1, x.ndim)), keepdims=True)
    return (x - lo) / np.maximum(hi - lo, 1e-12)


def accuracy_vs_cost(arch: pd.DataFrame, metric: str = "final_test_accuracy", title: str = ""):
    """Two panels, accuracy (mean ± std over seeds) against batch-1 latency
    (median, 10th–90th percentile bar) and against parameter count. ``arch``
    has one row per model: model, params, n_seeds, latency_ms_median/_p10/_p90,
    ``metric``_mean/_std."""
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


def mixing_grid(images, partners, mixed, labels, partner_labels, soft, weights,
                weight_name: str = "r", n: int = 8, title: str = "",
                row_labels=("first", "partner", "mixed")):
    """Three rows of an image-mixing batch: the first images, their partners
    (class names as titles) and the mixes, each titled with its weight on
    the first image and its soft label's two largest entries."""
    n = min(n, len(mixed))
    titles = [[CLASSES[c] for c in labels[:n]], [CLASSES[c] for c in partner_labels[:n]],
              [f"{weight_name}={w:.2f}\n{soft_label_text(s)}" for w, s in zip(weights[:n], soft[:n])]]
    return image_grid([images[:n], partners[:n], mixed[:n]], titles=titles,
                      row_labels=list(row_labels), title=title)


def calibration(throughput: pd.DataFrame, accuracy: pd.DataFrame, peak_gflops: float,
                title: str = "", throughput_on: str = "", accuracy_on: str = "",
                no_xla_note: str = "XLA: not timed"):
    """The budget calibration: training images/s of each configuration with and
    without XLA, annotated with its share of the float32 matmul peak (left);
    test accuracy against training hours per ``cnn10`` width (right, one line
    per width, from ``calibration.accuracy_table``). ``throughput_on`` and
    ``accuracy_on`` name the machines each panel was measured on (hosts of one
    name can differ several-fold in speed). A configuration timed without
    XLA only says ``no_xla_note`` where its XLA bar would be."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.4, 1]})
    configs = list(dict.fromkeys(throughput["config"]))
    y = np.arange(len(configs))
    for k, (xla, off) in enumerate(((True, -0.2), (False, 0.2))):
        sub = throughput[throughput["xla"] == xla].set_index("config")
        idx = [i for i, c in enumerate(configs) if c in sub.index]
        vals = [sub.loc[configs[i], "images_per_second"] for i in idx]
        ax.barh(y[idx] + off, vals, height=0.38, color=f"C{k}",
                label="XLA" if xla else "no XLA (TensorFlow's graph)")
        for i, v in zip(idx, vals):
            ax.text(v, i + off, f" {v:,.0f} ({sub.loc[configs[i], 'of_peak']:.0%} of peak)",
                    va="center", fontsize=7)
        if xla:
            for i in sorted(set(range(len(configs))) - set(idx)):
                ax.text(0, i + off, f" {no_xla_note}", va="center", fontsize=7, color="0.4",
                        style="italic")
    ax.set_yticks(y, [textwrap.fill(c, 30) for c in configs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"training images/s (peak: {peak_gflops:,.0f} GFLOP/s float32 matmul)")
    ax.set_xlim(0, throughput["images_per_second"].max() * 1.6)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    if throughput_on:
        ax.set_title(textwrap.fill(f"measured on {throughput_on}", 80), fontsize=8)
    for k, (width, g) in enumerate(accuracy.groupby("width")):
        ax2.plot(g["train_hours_mean"], g["test_accuracy_mean"], "o-", color=f"C{k}",
                 label=f"width {width} (n={g['n_seeds'].min()})")
    if accuracy.empty:
        ax2.text(0.5, 0.5, "no finished calibration runs yet", ha="center",
                 transform=ax2.transAxes)
    ax2.set_xlabel("training hours (one run)")
    ax2.set_ylabel("test accuracy after each epoch")
    ax2.set_title("BC baseline (case 0), constant rate"
                  + (f"\ntrained on {accuracy_on}" if accuracy_on else ""), fontsize=9)
    ax2.grid(alpha=0.3)
    if not accuracy.empty:
        ax2.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

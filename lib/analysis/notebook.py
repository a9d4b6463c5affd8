"""What the notebooks share, so that each notebook is narrative and calls.

- :class:`Notebook`: a notebook's parameters (its profile and the article's),
  its runs (computed or loaded with a :class:`ProgressLog`), and its outputs:
  ``figure`` saves a figure and shows it in one call, ``table`` writes a
  table and shows it, ``say`` shows rendered prose.
- Rows: :func:`article_rows` (the article's recipe at the profile's length)
  and :func:`length_rows` (the article's recipe at every length run), so that
  a comparison never mixes the ``decayed`` series (ours) into the article's.
- Sentences rendered from the runs, never typed: :func:`data_sentence` (which
  copy of CIFAR-10 the runs read, from their metrics), :func:`scale_sentence`
  (images, epochs, updates, seeds), :func:`seeds_text`, :func:`change_lines`
  (one bullet per comparison), :func:`length_text` and :func:`direction_text`
  (a change measured at several lengths of training: the verdict at the
  profile's length, and whether the lengths agree), :func:`level_claim` (a
  claim about an accuracy level, testable only where runs reach it),
  :func:`plateau_text` (whether a ReduceLROnPlateau arm ever lowered its
  rate, from its history).
- Lookups by key: :func:`change_row` / :func:`says` find a comparison by its
  arms, never by its wording; :func:`cost_notes` says what else differs
  between two arms (optimizer updates, training images).
- :func:`schedule_curve`: a learning-rate schedule as specified (per
  optimizer step), for ``plots.lr_curves``.

Runs are read only through the checked readers (``lib.store.runfiles``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..campaign import compute, profiles
from ..campaign.cache import is_finished, run_dir
from ..store.paths import runs_dir
from ..store.runfiles import read_finished
from ..training.spec import spec_id
from . import report, stats

#: The series whose runs follow the article's recipe (``long``: the same recipe,
#: trained longer); ``decayed`` runs end on a decay the article does not have.
ARTICLE_SERIES = ("article", "long")


# --- progress ---------------------------------------------------------------

class ProgressLog:
    """A ``log`` for ``compute.ensure_all`` in a notebook: the first message
    (how many runs, how many cached) and the latest one, shown as one output
    updated in place (an IPython display handle), not one printed line per
    epoch. Every message is kept in ``lines``. Outside IPython each message
    is printed."""

    def __init__(self, display=None):
        self.lines: list[str] = []
        self._display = display
        self._handle = None

    def text(self) -> str:
        if len(self.lines) <= 1:
            return "".join(self.lines)
        return f"{self.lines[0]}\n{self.lines[-1]}"

    def __call__(self, message) -> None:
        self.lines.append(str(message))
        bundle = {"text/plain": self.text()}
        if self._handle is None:
            show = self._display
            if show is None:
                from IPython import get_ipython
                from IPython.display import display as show
                if get_ipython() is None:   # a plain interpreter: no display to update
                    print(message)
                    return
            self._handle = show(bundle, raw=True, display_id=True)
            if self._handle is None:
                print(message)
        else:
            self._handle.update(bundle, raw=True)


# --- outputs ----------------------------------------------------------------

def show_figure(fig, profile: str, notebook: str, name: str) -> Path:
    """Save ``fig`` as ``figures/<notebook>/<name>.png`` of the profile, show
    it (in a notebook) and close it; returns the file."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    path = report.save_figure(fig, profile, notebook, name)
    display(fig)
    plt.close(fig)
    return path


def markdown(*lines: str) -> None:
    """Show lines of rendered markdown."""
    from IPython.display import Markdown, display

    display(Markdown("\n".join(lines)))


class Notebook:
    """One notebook at one profile: ``P`` its parameters (``overrides``
    applied), ``paper`` the article's (the ``paper`` profile), and its outputs
    under ``results/<profile>/``."""

    def __init__(self, name: str, profile: str, overrides: dict | None = None,
                 train: bool = True):
        self.name, self.profile, self.overrides = name, profile, overrides
        self.train = train
        self.P = profiles.load(name, profile, overrides)
        self.paper = profiles.load(name, "paper")

    def runs(self, **options) -> pd.DataFrame:
        """Every run of the profile (trained or loaded), one row each, with
        progress shown as one updating line. With ``train=False`` nothing is
        trained: the finished runs only, and a line saying what is left out."""
        table = compute.ensure_all(self.name, self.profile, self.overrides, log=ProgressLog(),
                                   train=self.train, **options)
        if not self.train:
            self.say(pending_sentence(self.name, self.profile, self.overrides))
        return table

    def histories(self, table: pd.DataFrame) -> pd.DataFrame:
        return compute.load_histories(table, self.profile)

    def figure(self, fig, name: str) -> None:
        """Save ``fig`` as ``figures/<notebook>/<name>.png`` and show it (returns
        nothing, so that a cell ending on it shows the figure only)."""
        show_figure(fig, self.profile, self.name, name)

    def table(self, df: pd.DataFrame, suffix: str | None = None, show: bool = True,
              floatfmt: str = ".4f") -> None:
        """Write ``df`` as ``tables/<notebook>[_<suffix>].csv|md`` and show it
        (once, as markdown)."""
        report.write_table(df, self.profile, self.name + (f"_{suffix}" if suffix else ""))
        if show:
            markdown(report.to_markdown(df, floatfmt))

    def say(self, *lines: str) -> None:
        markdown(*lines)

    def ledger(self) -> None:
        """Show this notebook's rows of the claims ledger, from the finished runs."""
        from . import claims
        markdown(claims.table_markdown(claims.ledger(self.profile, notebooks=[self.name])))

    def answer(self) -> None:
        """Show the answer to each of this notebook's claims, from its ledger rows."""
        from . import claims
        markdown(claims.answer(claims.ledger(self.profile, notebooks=[self.name])))

    def data_sentence(self, table: pd.DataFrame) -> str:
        return data_sentence(table, self.profile)

    def levels(self, runs: pd.DataFrame, by: str, labels: dict | None = None,
               article: dict | None = None, *, figure: str, title: str, shown=None,
               notes: dict | None = None, label_column: str = "label") -> pd.DataFrame:
        """Each arm's level over seeds (``stats.summarize``, with the article's
        values and a ``label_column``), written as the notebook's table and
        drawn as ``figure`` (``plots.levels_vs_article``; only the arms in
        ``shown`` where given). Returns the summary."""
        from . import plots

        summary = stats.summarize(runs, by=by, article=article)
        if labels is not None:
            summary.insert(1, label_column, summary[by].map(labels))
        self.table(summary)
        drawn = summary if shown is None else summary[summary[by].isin(shown)].reset_index(drop=True)
        self.figure(plots.levels_vs_article(drawn, runs, by, labels, notes=notes, title=title), figure)
        return summary

    def length_section(self, table: pd.DataFrame, by: str, a, b, *, article_gain: float,
                       what: str, title: str, ylabel: str, label: str | None = None):
        """The change from arm ``a`` to ``b`` at every length the article's
        recipe ran (:func:`lengths`): the ``budget_effect`` figure (the
        article's gain at its length, the profile's length marked), table and
        sentence (:func:`length_text`); or a line saying there is one length
        only. Returns the rows, or None."""
        from . import plots

        effect = lengths(table, by, a, b)
        if effect is None:
            self.say(f"*The finished runs of the `{self.profile}` profile give {what} at one "
                     "length only, so there is no gain-against-budget figure here.*")
            return None
        if label is not None:
            effect.insert(4, "label", label)
        self.figure(plots.effect_vs_budget(effect, article=(self.paper["epochs"], article_gain),
                                           profile_epochs=self.P["epochs"], title=title,
                                           ylabel=ylabel), "budget_effect")
        self.table(effect, "budget_effect")
        self.say(length_text(effect, self.P["epochs"]))
        return effect

    def settings(self, *keys: str) -> str:
        """"`budget` profile: epochs 4, seeds [0, 1, 2]": the profile's values of ``keys``."""
        return f"`{self.profile}` profile: " + ", ".join(
            f"{k.replace('_', ' ')} {self.P.get(k)}" for k in keys)


def pending_sentence(name: str, profile: str, overrides: dict | None = None) -> str:
    """What a render from the finished runs only leaves out: the unfinished
    runs of the profile, by series, and the command that trains them."""
    _, runs = profiles.notebook_runs(name, profile, overrides)
    distinct = {spec_id(r["spec"]): r for r in runs}
    missing = [r for r in distinct.values() if not is_finished(run_dir(r["spec"], profile))]
    if not missing:
        return f"*Every one of the {len(distinct)} runs of the `{profile}` profile is finished.*"
    series = pd.Series([r["labels"].get("series", "article") for r in missing]).value_counts()
    parts = ", ".join(f"{n} of series `{s}`" for s, n in series.items())
    return (f"*Rendered from the finished runs only: {len(missing)} of the {len(distinct)} runs "
            f"of the `{profile}` profile are not finished ({parts}) and are left out; where a "
            "long run is missing, the shorter run it replaces stands in. "
            f"`python -m lib compute {name} --profile {profile}` trains them.*")


#: The columns of a run table shown after a notebook's own (those the table has).
RUN_COLUMNS = ("series", "budget", "epochs", "seed", "run_id", "final_test_accuracy",
               "best_test_accuracy", "updates", "train_images", "wall_seconds")


def run_table(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``table`` with ``columns`` first, then those of :data:`RUN_COLUMNS` it has."""
    return table[[*columns, *(c for c in RUN_COLUMNS if c in table and c not in columns)]]


# --- rows -------------------------------------------------------------------

def article_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The runs of the article's recipe at the profile's length (series
    ``article``, ``budget`` 1.0 where the table has budgets)."""
    keep = table["series"] == "article" if "series" in table else pd.Series(True, table.index)
    if "budget" in table:
        keep &= table["budget"] == 1.0
    return table[keep].reset_index(drop=True)


def decayed_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The runs of the ``decayed`` series (both arms ending on the same
    learning-rate decay; none where the profile has no such series)."""
    if "series" not in table:
        return table.iloc[0:0]
    return table[table["series"] == "decayed"].reset_index(drop=True)


def length_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The runs of the article's recipe at every length run (series
    ``article`` and ``long``; the ``decayed`` series is another recipe)."""
    if "series" not in table:
        return table.reset_index(drop=True)
    return table[table["series"].isin(ARTICLE_SERIES)].reset_index(drop=True)


def lengths(table: pd.DataFrame, by: str, a, b, **options) -> pd.DataFrame | None:
    """``stats.compare_by_budget`` of arm ``a`` to ``b`` over
    :func:`length_rows`, or None where the two arms ran one length only."""
    rows = length_rows(table)
    if "budget" not in rows:
        return None
    effect = stats.compare_by_budget(rows, by, a, b, **options)
    return effect if len(effect) > 1 else None


# --- the runs' own record ---------------------------------------------------

def run_metrics(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The ``metrics.json`` of each distinct run of ``table`` (checked
    reads), one row per run id."""
    rows = []
    for rid in dict.fromkeys(table["run_id"]):
        metrics, _ = read_finished(runs_dir(profile) / rid)
        rows.append({"run_id": rid, **metrics})
    return pd.DataFrame(rows)


def _is_jpeg(source: str) -> bool:
    return "jpeg" in source.lower() or "jpg" in source.lower()


def data_sentence(table: pd.DataFrame, profile: str) -> str:
    """Which copy of CIFAR-10 the runs read (their metrics' ``cifar10_source``),
    and what an offline JPEG copy means for the accuracies: "**Data.** ..."."""
    m = run_metrics(table, profile)
    sources = m["cifar10_source"] if "cifar10_source" in m else pd.Series([None] * len(m))
    counts = sources.fillna("").value_counts()
    unknown = int(counts.pop("")) if "" in counts else 0
    jpeg = ("a copy re-encoded as JPEG (quality 75), so every accuracy runs a little below what "
            "the pristine data gives. Point `CIFAR10_PATH` at the original `cifar-10-batches-py` "
            "to remove this difference.")
    if counts.empty:
        return ("**Data.** These runs do not record which copy of CIFAR-10 they read; where it is "
                "the offline copy re-encoded as JPEG (quality 75), accuracies run a little below "
                "the pristine data's.")
    if len(counts) == 1 and not unknown:
        source = counts.index[0]
        return f"**Data.** These runs read CIFAR-10 from `{source}`" + (
            f": {jpeg}" if _is_jpeg(source) else ".")
    parts = [f"`{s}` ({n} runs)" for s, n in counts.items()]
    if unknown:
        parts.append(f"an unrecorded copy ({unknown} runs)")
    text = f"**Data.** These runs read CIFAR-10 from more than one copy: {', '.join(parts)}."
    if any(_is_jpeg(s) for s in counts.index):
        text += " The JPEG copy is " + jpeg
    return text


def counts(table: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Per arm (``by``; the whole table without it): epochs, training images
    per epoch, training images and optimizer updates of one run (means over
    the arm's runs, rounded), and the number of runs and of seeds."""
    t = table.assign(images_per_epoch=table["train_images"] / table["epochs"])
    g = t.groupby(by if by is not None else np.zeros(len(t), int))
    out = g[["epochs", "images_per_epoch", "train_images", "updates"]].mean().round().astype(int)
    out["runs"] = g.size()
    out["seeds"] = g["seed"].nunique()
    return out


def images_per_epoch(table: pd.DataFrame) -> int:
    """Training images one epoch of these runs passes (they must agree)."""
    ipe = (table["train_images"] // table["epochs"]).unique()
    if len(ipe) != 1:
        raise ValueError(f"the runs pass different numbers of images per epoch: {sorted(ipe)}")
    return int(ipe[0])


def seeds_text(table: pd.DataFrame, by: str) -> str:
    """"3 seeds per case, except case 0: 6, case 2: 1" (the most common count first)."""
    n = table.groupby(by)["seed"].nunique()
    common = int(n.mode().max())
    text = f"{common} seed{'s' if common != 1 else ''} per {by}"
    other = [f"{by} {k:g}: {v}" if isinstance(k, float) else f"{by} {k}: {v}"
             for k, v in n.items() if v != common]
    return text + (f", except {', '.join(other)}" if other else "")


def scale_sentence(table: pd.DataFrame, profile: str, *, model: str, by: str,
                   article: str | None = None, article_epochs: int | None = None,
                   extra: str = "") -> str:
    """"**Scale.** The `budget` profile trains <model> (the article: <article>)
    for E epochs (the article: AE): one run passes N training images per epoch,
    I in all, in U optimizer updates, and is tested on T images; <seeds>."
    Counts are those of the arm with the most runs (ties: the first); arms
    that pass other counts say so."""
    c = counts(table, by)
    arm = c["runs"].idxmax()
    base = c.loc[arm]
    test = run_metrics(table.iloc[:1], profile)["test_images"].iloc[0]
    other = c.index[(c["images_per_epoch"] != base["images_per_epoch"])
                    | (c["updates"] != base["updates"])]
    text = (f"**Scale.** The `{profile}` profile trains {model}"
            + (f" (the article: {article})" if article else "") + f" for {base['epochs']} epochs"
            + (f" (the article: {article_epochs})" if article_epochs else "") + ": one run passes "
            f"{base['images_per_epoch']:,} training images per epoch, {base['train_images']:,} in "
            f"all, in {base['updates']:,} optimizer updates, and is tested on {test:,} images")
    if len(other):
        text += (" (" + "; ".join(
            f"{by} {k}: {c.loc[k, 'train_images']:,} images in "
            f"{c.loc[k, 'updates']:,} updates" for k in other) + ")")
    return text + f"; {seeds_text(table, by)}" + (f"; {extra}" if extra else "") + "."


# --- comparisons ------------------------------------------------------------

def change_row(changes: pd.DataFrame, a, b) -> pd.Series | None:
    """The row of a ``stats.compare_many`` table comparing arm ``a`` to ``b``
    (by its arms, never its wording), or None where it was not run."""
    hit = changes[(changes["from"] == a) & (changes["to"] == b)]
    return hit.iloc[0] if len(hit) else None


def with_costs(changes: pd.DataFrame, table: pd.DataFrame, by: str) -> pd.DataFrame:
    """``changes`` (``stats.compare_many``) with each arm's mean optimizer
    updates and training images per run (``updates_a``/``_b``,
    ``images_a``/``_b``) and ``confounded``, what else differs between the
    arms (:func:`cost_notes`; "" where nothing does)."""
    c = counts(table, by)
    out = changes.copy()
    for name, col in (("updates", "updates"), ("images", "train_images")):
        for side, arm in (("a", "from"), ("b", "to")):
            out[f"{name}_{side}"] = out[arm].map(c[col])
    out["confounded"] = [cost_notes(table, by, a, b) for a, b in zip(out["from"], out["to"])]
    return out


def change_lines(changes: pd.DataFrame, notes: dict | None = None, indent: str = "",
                 scale: float = 100.0) -> list[str]:
    """One markdown bullet per comparison row: "- **change**: <change_text>;
    the article: +1.83 points." with ``notes`` ((from, to) -> text) after it."""
    out = []
    for _, row in changes.iterrows():
        art = row.get("article")
        text = (f"{indent}- **{row['change']}**: {stats.change_text(row, scale)}"
                + (f"; the article: {art * scale:+.2f} points" if art is not None and pd.notna(art)
                   else "") + ".")
        note = (notes or {}).get((row["from"], row["to"]))
        out.append(text + (f" {note}." if note else ""))
    return out


def says(changes: pd.DataFrame, a, b) -> str:
    """``stats.change_text`` of the comparison of ``a`` to ``b``, or "not run"."""
    row = change_row(changes, a, b)
    return "not run" if row is None else stats.change_text(row)


def cost_notes(table: pd.DataFrame, by: str, a, b) -> str:
    """What else differs between arms ``a`` and ``b`` (means over their
    runs): "8× the images", "0.12× the updates", or "" where both match."""
    c = counts(table, by)
    if a not in c.index or b not in c.index:
        return ""
    parts = []
    for col, name in (("train_images", "images"), ("updates", "updates")):
        if c.loc[b, col] != c.loc[a, col]:
            parts.append(f"{c.loc[b, col] / c.loc[a, col]:.2g}× the {name}")
    return ", ".join(parts)


def _epochs_list(epochs) -> str:
    e = [f"{int(x)}" for x in epochs]
    text = e[0] if len(e) == 1 else ", ".join(e[:-1]) + " and " + e[-1]
    return text + (" epoch" if e == ["1"] else " epochs")


def length_text(effect: pd.DataFrame, epochs: int) -> str:
    """A change measured at several lengths (``stats.compare_by_budget`` rows)
    read at the profile's length ``epochs``, then whether the other lengths
    agree with it: their verdicts, the sign of the measured change, and the
    family caution over the lengths (Holm)."""
    r = effect.sort_values("epochs").reset_index(drop=True)
    at = r[r["epochs"] == epochs]
    if at.empty:
        raise ValueError(f"no comparison at the profile's {epochs} epochs")
    row = at.iloc[0]
    text = f"At this profile's {epochs} epochs: {stats.change_text(row)}."
    verdicts = r["verdict"].map(stats.Verdict)
    if (verdicts == verdicts.iloc[0]).all():
        text += (f" Every length run agrees: {_VERDICT_SHORT[verdicts.iloc[0]]} at each of "
                 f"{_epochs_list(r['epochs'])}.")
    else:
        groups = {}
        for v, e in zip(verdicts, r["epochs"]):
            groups.setdefault(v, []).append(e)
        text += " **The lengths disagree**: " + "; ".join(
            f"{_VERDICT_SHORT[v]} at {_epochs_list(e)}" for v, e in groups.items()) + "."
    signs = np.sign(r["ours"].to_numpy(float))
    if (signs > 0).any() and (signs < 0).any():
        text += (" The measured change's sign moves with the length: "
                 + ", ".join(f"{o * 100:+.2f} points at {_epochs_list([e])}"
                             for o, e in zip(r["ours"], r["epochs"])) + ".")
    ph = stats.holm(r["p"].to_numpy(float))
    if np.isfinite(ph).sum() > 1:
        text += (f" Taken as one family of {int(np.isfinite(ph).sum())} lengths, the smallest "
                 f"Holm-adjusted p-value is {np.nanmin(ph):.3f}"
                 + (": no length's verdict survives that caution." if np.nanmin(ph) >= stats.ALPHA
                    else "."))
    return text


def direction_text(effect: pd.DataFrame | None, what: str, article_epochs) -> str:
    """Whether a change measured at several lengths (``stats.compare_by_budget``
    rows) keeps its direction: its sign and verdict at each length, and what
    that allows one to say about the article's length. ``effect`` None: the
    change ran at one length only, which the sentence says."""
    if effect is None:
        return (f"{what} has finished runs at one length only, so these runs cannot show whether it keeps its "
                f"direction at the article's {article_epochs} epochs.")
    r = effect.sort_values("epochs").reset_index(drop=True)
    signs = np.sign(r["ours"].to_numpy(float))
    verdicts = r["verdict"].map(stats.Verdict)
    listing = ", ".join(f"{o * 100:+.2f} points at {_epochs_list([e])}"
                        for o, e in zip(r["ours"], r["epochs"]))
    if verdicts.isin([stats.Verdict.NO_VERDICT, stats.Verdict.NO_SPREAD]).all():
        return (f"{what} gets no verdict at any of the {len(r)} lengths run ({listing}; one run "
                f"on a side, or no spread), so these runs cannot show its direction, at their "
                f"lengths or at the article's {article_epochs} epochs.")
    if (signs > 0).any() and (signs < 0).any():
        return (f"{what} changes sign with the length of training ({listing}): a direction "
                f"measured at one length does not carry to another, least of all to the "
                f"article's {article_epochs} epochs.")
    if verdicts.nunique() > 1:
        groups = {}
        for v, e in zip(verdicts, r["epochs"]):
            groups.setdefault(v, []).append(e)
        return (f"{what} keeps its sign across the lengths run ({listing}) but not its verdict ("
                + "; ".join(f"{_VERDICT_SHORT[v]} at {_epochs_list(e)}" for v, e in groups.items())
                + f"), so its direction at the article's {article_epochs} epochs is open.")
    return (f"{what} has the same sign and verdict ({_VERDICT_SHORT[verdicts.iloc[0]]}) at each of "
            f"the {len(r)} lengths run ({listing}); whether that holds at the article's "
            f"{article_epochs} epochs these runs cannot say.")


def level_claim(values, level: float, reached: float, where: str) -> str:
    """A claim that runs stay above ``level`` (e.g. "stably above 90 %"),
    judged on ``values`` (the claim's runs). It is testable only where runs get
    there: with ``reached`` (the best run of any arm) below ``level`` the
    accuracy itself is below the level at this scale (``where``, e.g. "at width
    16 and 3 epochs"), whatever the arm, and the answer says so."""
    v = pd.Series(values, dtype=float)
    if reached < level:
        return (f"not testable at this scale: the accuracy level itself is "
                f"{'far ' if reached < level - 0.1 else ''}below {level:.0%} {where}. The best run "
                f"of any arm reaches {reached:.1%}, these {len(v)} runs {v.min():.1%} to "
                f"{v.max():.1%}; whether runs stay above {level:.0%} can be asked only of runs "
                "that get there.")
    above = int((v > level).sum())
    return (f"{above} of {len(v)} runs above {level:.0%} (lowest {v.min():.1%}): "
            + ("holds in these runs." if above == len(v) else "does not hold in these runs."))


_VERDICT_SHORT = {stats.Verdict.HELPS: "helps", stats.Verdict.HURTS: "hurts",
                  stats.Verdict.INCONCLUSIVE: "inconclusive",
                  stats.Verdict.NO_VERDICT: "no verdict (one run)",
                  stats.Verdict.NO_SPREAD: "no verdict (no spread)"}


# --- schedules --------------------------------------------------------------

def plateau_fired(hist: pd.DataFrame) -> pd.Series:
    """Per seed of a run history: whether its rate was ever lowered
    (``lib.training.schedules.rate_lowered``)."""
    from ..training.schedules import rate_lowered

    return rate_lowered(hist)


def plateau_text(hist: pd.DataFrame) -> str:
    """Whether a ReduceLROnPlateau arm lowered its rate within its runs:
    "did not fire within the run: not a test" where it never did."""
    fired = plateau_fired(hist)
    n = len(fired)
    runs = f"{n} run{'s' if n != 1 else ''}"
    if fired.empty:
        return "not run"
    if not fired.any():
        return (f"did not fire within the run: not a test (its rate never fell in "
                f"{'any of its ' + runs if n > 1 else 'its one run'}, so it trained at the "
                "baseline's constant rate)")
    if fired.all():
        return f"lowered the rate in {'each of its ' + runs if n > 1 else 'its one run'}"
    return (f"lowered the rate in {int(fired.sum())} of its {runs}; the others trained at the "
            "baseline's constant rate")


def schedule_curve(cfg: dict, base_lr: float, epochs: float,
                   steps_per_epoch: int | None = None) -> tuple[list, list] | None:
    """A spec's ``lr_schedule`` as specified, ``(t, rate)`` with ``t`` the
    epochs of training done (0 … epochs), for ``plots.lr_curves``: constant
    and step schedules at their switches, cosine at every optimizer step
    (``steps_per_epoch`` needed). None for a plateau schedule, whose rate
    depends on the run."""
    name = cfg.get("name", "constant")
    if name == "plateau":
        return None
    if name == "cosine":
        import keras

        from ..training.schedules import CosineSchedule
        if not steps_per_epoch:
            raise ValueError("a cosine schedule needs steps_per_epoch")
        total = int(round(steps_per_epoch * epochs))
        decay = CosineSchedule(cfg, base_lr, total).optimizer_rate()
        steps = np.arange(total + 1)
        rate = keras.ops.convert_to_numpy(decay(steps.astype("float32")))
        return list(steps / steps_per_epoch), [float(x) for x in rate]
    from ..training.schedules import EpochSchedule

    rate = EpochSchedule(cfg, base_lr).rate
    t = [0.0, *[float(m) for m in cfg.get("milestones", [])], float(epochs)]
    return t, [rate(x) for x in t]

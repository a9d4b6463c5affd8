"""The claims ledger: every claim of the five articles beside our answer.

One row per claim and measurement: the article's effect and training length;
ours with its 95 % interval, n, length, endpoint and minimum detectable
effect; and a status computed from those numbers (:func:`status`), never
typed. A claim is measured on up to three series of runs (``series``):

- ``article``: the article's recipe at the profile's length;
- ``decayed``: ours, both arms ending on the same learning-rate decay, where
  the endpoint is quiet enough to resolve small effects;
- ``long``: the article's recipe trained long, read at its last epoch
  through :data:`stats.WINDOW_NAME`, with the shorter lengths beside it.

Rows are computed from the profile's *finished* runs (nothing trains here)
with the statistics of :mod:`lib.analysis.stats` (intervals not adjusted for
multiplicity: each claim is the article's own question), so the ledger can
be rendered while a campaign is under way; its n says what it rests on.

    python -m lib claims [--profile budget]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from ..campaign import compute, profiles
from ..campaign.experiments import (bc_learning, mixup_baseline, natural_artificial_loss,
                                    resnet_ablation)
from ..store.paths import profile_dir
from . import length_effect, report, stats


class Status(StrEnum):
    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    SMALLER = "smaller_than_claimed"
    UNRESOLVED = "unresolved"
    NOT_TESTABLE = "not_testable"


STATUS_WORDS = {Status.SUPPORTED: "supported", Status.CONTRADICTED: "contradicted",
                Status.SMALLER: "smaller than claimed", Status.UNRESOLVED: "unresolved",
                Status.NOT_TESTABLE: "not testable at this scale"}


#: The statuses in words, as a reader needs them beside the counts (:func:`status`).
STATUS_LEGEND = ("Supported: the 95 % interval excludes 0 on the article's side (an effect of "
                 "any size in the claimed direction); contradicted: it excludes 0 on the other "
                 "side; smaller than claimed: it holds 0 but excludes the article's number (the "
                 "claimed size is ruled out, no effect is shown); unresolved: it holds 0 (and "
                 "the article's number, where it gives one; \"could detect ≥ X\": the smallest "
                 "effect these runs would have found, at 80 % power), or there is no interval.")
#: How :func:`decisive` picks the one measurement a claim is counted at.
COUNTING_RULE = ("Each claim is counted once, at its most decisive measurement: one with an "
                 "interval first, then one whose planned pairs have all finished, then the long "
                 "series before the decayed one (both arms ending on a learning-rate decay) "
                 "before the article's recipe, the longest first.")


def status(low: float, high: float, direction: int, article_effect: float | None = None,
           untestable: str | None = None) -> Status:
    """The status of one row from its numbers: ``low``/``high`` the 95 %
    interval of our effect, ``direction`` the article's sign (+1: the change
    helps), ``article_effect`` its size where it gives one; the rule in words
    is :data:`STATUS_LEGEND`."""
    if untestable:
        return Status.NOT_TESTABLE
    if any(v is None or math.isnan(v) for v in (low, high)):
        return Status.UNRESOLVED
    if low > 0 or high < 0:
        return Status.SUPPORTED if (low > 0) == (direction > 0) else Status.CONTRADICTED
    if article_effect is not None and not math.isnan(article_effect) and (
            (direction > 0 and high < article_effect) or (direction < 0 and low > article_effect)):
        return Status.SMALLER
    return Status.UNRESOLVED


def status_text(row) -> str:
    """A row's status in words: "unresolved (could detect ≥ 2.1 points)",
    "not testable at this scale (why)", "supported (confounded)"."""
    s = Status(row["status"])
    words = STATUS_WORDS[s]
    if s is Status.UNRESOLVED:
        mde, n = row.get("mde"), row.get("n")
        if not _missing(mde):
            return f"{words} (could detect ≥ {mde:.1f} points)"
        if not _missing(row.get("ci95_low")):
            return words
        if n in (0, "0", None) or (isinstance(n, float) and math.isnan(n)):
            return f"{words} (no finished pair yet)"
        return f"{words} (no interval: fewer than 2 runs a side)"
    if s is Status.NOT_TESTABLE:
        return f"{words} ({row['note']})"
    if row.get("confounded") in (True, "True"):   # a bool, or read back from the CSV
        # the arms differ in more than the change the claim names: the note says how
        return f"{words} (confounded)"
    return words


@dataclass(frozen=True)
class Claim:
    """One claim: arm ``a`` -> arm ``b`` of column ``by`` should move
    ``metric`` in ``direction`` (by ``article_effect``, accuracy units, where
    the article gives a number)."""
    notebook: str
    key: str
    text: str
    by: str
    a: object
    b: object
    direction: int
    article_effect: float | None = None
    article_text: str = ""
    metric: str = "final_test_accuracy"
    headline: bool = False
    article_epochs: int | None = -1   # -1: the paper profile's (the article's) length
    decayed: bool = False          # measured on the decayed series too
    long: bool = False             # and on the long series
    # the article's recipe ends on a learning-rate decay itself: its rows are quiet
    # endpoints, and each length is a run of its own (no per-epoch reading)
    recipe_decays: bool = False
    note: str = ""                 # what else the reader must know
    # what else differs between the arms than the change the claim names (empty: nothing)
    confound: str = ""


def _and(items) -> str:
    """"2", "2 and 13", "2, 13 and 21"."""
    words = [str(i) for i in items]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _points(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else 100 * x


def _bc_claims() -> list[Claim]:
    A = bc_learning.ARTICLE
    d = lambda a, b: A[b] - A[a]   # noqa: E731
    return [
        Claim("bc_learning", "bc.0-1", "BC mixing helps (case 0 → 1)", "case", 0, 1, +1, d(0, 1),
              headline=True, decayed=True, long=True),
        Claim("bc_learning", "bc.1-2", "a larger batch at the same step size costs little "
              "(case 1 → 2)", "case", 1, 2, -1, d(1, 2),
              confound="case 2 trains on 8× the images per epoch, one seed"),
        Claim("bc_learning", "bc.1-3", "a larger batch and step size costs more (case 1 → 3)",
              "case", 1, 3, -1, d(1, 3), confound="case 3 takes 8× fewer updates"),
        Claim("bc_learning", "bc.1-4", "learning-rate decay helps (case 1 → 4)", "case", 1, 4, +1,
              d(1, 4)),
        Claim("bc_learning", "bc.4-5", "standard data augmentation helps (case 4 → 5)", "case",
              4, 5, +1, d(4, 5)),
    ]


def _resnet_claims() -> list[Claim]:
    A, names = resnet_ablation.ARTICLE, resnet_ablation.RESNET_ABLATION_STEPS
    out = []
    for k in range(1, len(names)):
        eff = A[k] - A[k - 1]
        out.append(Claim("resnet_ablation", f"resnet.{k - 1}-{k}", f"{names[k]} (step {k - 1} → {k})",
                         "step", k - 1, k, 1 if eff >= 0 else -1, eff, headline=k in (1, 2),
                         decayed=k in (1, 2), long=k in (1, 2)))
    return out


def _natural_claims() -> list[Claim]:
    nb, C = "natural_artificial_loss", natural_artificial_loss.CLAIMS
    return [
        Claim(nb, "natural.softmax", C["gain_1_2_points"],
              "pattern", "normal_lr1e-3", "natural_softmax", +1, 0.01, "+1 to +2",
              metric="best_test_accuracy", headline=True, decayed=True, long=True,
              note="the smaller end of the article's 1–2 points (over its 15 runs) is the effect "
                   "tested"),
        Claim(nb, "natural.lr1e-2", C["lr1e-2_worse"], "pattern",
              "normal_lr1e-3", "normal_lr1e-2", -1, None, "worse",
              metric="best_test_accuracy"),
        # the article calls it "no good" ("dame-dame") beside its reference, Normal lr 1e-3
        Claim(nb, "natural.hardmax", C["hardmax_bad"],
              "pattern", "normal_lr1e-3", "natural_hardmax", -1, None, "no good",
              metric="best_test_accuracy"),
    ]


def _mixup_claims() -> list[Claim]:
    A = mixup_baseline.ARTICLE
    return [Claim("mixup_baseline", "mixup.0.2", "mixup (α = 0.2) helps ResNet-20", "alpha", 0.0,
                  0.2, +1, A[0.2] - A[0.0], headline=True, long=True, recipe_decays=True)]


def _tricks_claims() -> list[Claim]:
    nb, out = "training_tricks", []
    words = {"label_smoothing_0.1": "label smoothing 0.1 helps",
             "label_smoothing_0.2": "label smoothing 0.2 helps",
             "kl_divergence": "KL divergence on smoothed targets helps",
             "random_erasing": "RandomErasing helps",
             "reduce_on_plateau": "ReduceLROnPlateau helps",
             "cosine": "cosine decay helps"}
    notes = {"kl_divergence": "against the hard-label baseline: KL and smoothing change "
                              "together; KL against cross-entropy on the same smoothed "
                              "targets is in tables/training_tricks_gain.md"}
    for trick, text in words.items():
        head = trick == "label_smoothing_0.1"
        out.append(Claim(nb, f"tricks.{trick}", text, "trick", "baseline", trick, +1, None,
                         "recommended (no number)", headline=head, article_epochs=None,
                         decayed=head, long=head, note=notes.get(trick, "")))
    out.append(Claim(nb, "tricks.architecture", "a larger architecture is more accurate "
                     "(ResNet-20 v1 over the cnn10 baseline)", "architecture", "baseline",
                     "resnet20_v1", +1, None, "ResNeXt-50 over ResNet-34 (other data)",
                     article_epochs=None, note="the article's pair is fine-tuned on Oxford-IIIT Pet: no size to compare"))
    return out


def claims() -> list[Claim]:
    """Every claim of every article, in the collection's order."""
    return _bc_claims() + _resnet_claims() + _natural_claims() + _mixup_claims() + \
        _tricks_claims()


#: Columns of :func:`ledger`, in order (effects and intervals in points).
COLUMNS = ("article", "key", "claim", "headline", "series", "article_effect", "article_says",
           "article_epochs", "ours", "ci95_low", "ci95_high", "n", "n_planned", "epochs",
           "endpoint", "mde", "se", "df", "baseline_gap", "status", "status_text", "confounded",
           "note")

_ENDPOINT = {"article": "last epoch", "decayed": "last epoch, after a decay (ours)",
             "recipe decays": "last epoch, after the example's decay"}


def _endpoint(c: Claim, series: str) -> str:
    """Where the claim's metric reads a run: its last epoch, or its best one."""
    text = _ENDPOINT["recipe decays" if c.recipe_decays and series != "decayed" else series]
    return text.replace("last epoch", "best epoch") if c.metric == "best_test_accuracy" else text


def _row(c: Claim, series: str, result: dict | None, epochs, endpoint: str, P_paper: dict,
         note: str = "", untestable: str | None = None, planned: int | None = None,
         gap: float | None = None) -> dict:
    """One ledger row; ``planned``: the pairs the profile plans for the
    series, ``gap``: the baseline's train - test accuracy at the row's length."""
    r = result or {}
    low, high = _points(r.get("ci_low")), _points(r.get("ci_high"))
    eff = _points(c.article_effect)
    n = r.get("n_pairs") or (f"{r['n_a']}/{r['n_b']}" if r else 0)
    st = status(low if low is not None else math.nan, high if high is not None else math.nan,
                c.direction, eff, untestable)
    row = {"article": c.notebook, "key": c.key, "claim": c.text, "headline": c.headline,
           "series": series, "article_effect": eff,
           "article_says": c.article_text or (f"{eff:+.2f}" if eff is not None else ""),
           "article_epochs": P_paper.get("epochs") if c.article_epochs == -1 else c.article_epochs,
           "ours": _points(r.get("diff")),
           "ci95_low": low, "ci95_high": high, "n": n, "n_planned": planned, "epochs": epochs,
           "endpoint": endpoint, "mde": _points(r.get("mde")),
           # the paired t's standard error and degrees of freedom: what an adjusted MDE needs
           "se": _points(r.get("se")), "df": r.get("df"), "baseline_gap": _points(gap),
           "status": st, "confounded": bool(c.confound),
           "note": "; ".join(x for x in (untestable, c.confound and f"confounded: {c.confound}",
                                         c.note, note) if x)}
    row["status_text"] = status_text(row)
    return row


def _compare(t: pd.DataFrame, c: Claim, a=None, b=None) -> dict | None:
    a, b = (c.a if a is None else a), (c.b if b is None else b)
    if not {a, b} <= set(t[c.by]):
        return None
    return stats.compare(t, c.by, a, b, c.metric)


def _baseline_gap(t: pd.DataFrame, c: Claim) -> float | None:
    """The baseline arm's mean train - test accuracy at the end of its runs:
    a regulariser has something to reduce only once this is large."""
    base = t[t[c.by] == c.a] if c.by in t else t.iloc[0:0]
    if not len(base) or "final_train_accuracy" not in base:
        return None
    return float((base["final_train_accuracy"] - base["final_test_accuracy"]).mean())


def _planned(P: dict, series: str) -> int | None:
    """The seeds (pairs) the profile plans for a decayed or long series."""
    return len(P[series]["seeds"]) if isinstance(P.get(series), dict) \
        and "seeds" in P[series] else None


def _profile_length(t: pd.DataFrame) -> pd.DataFrame:
    """The article series at the profile's own length."""
    t = t[t["series"] == "article"]
    return t[t["budget"] == 1.0] if "budget" in t else t


def _claim_rows(c: Claim, table: pd.DataFrame, P: dict, P_paper: dict, profile: str) -> list[dict]:
    rows = []
    main = _profile_length(table)
    if c.key == "tricks.reduce_on_plateau" and "reduce_on_plateau" in set(main["trick"]):
        hist = compute.load_histories(main[main["trick"] == "reduce_on_plateau"], profile)
        from ..training.schedules import rate_lowered
        if not rate_lowered(hist).any():
            return [_row(c, "article", None, P["epochs"], _ENDPOINT["article"], P_paper,
                         untestable="the rate never dropped within the run: it trained as the "
                                    "baseline did")]
    if c.key == "tricks.architecture":
        main = main[main["trick"].isin(["baseline", "architecture"])]
    rows.append(_row(c, "article", _compare(main, c), P["epochs"], _endpoint(c, "article"), P_paper,
                     gap=_baseline_gap(main, c)))
    if c.decayed and "decayed" in P:
        dec = table[table["series"] == "decayed"]
        rows.append(_row(c, "decayed", _compare(dec, c), P["epochs"], _endpoint(c, "decayed"),
                         P_paper, planned=_planned(P, "decayed"), gap=_baseline_gap(dec, c)))
    if c.long and c.recipe_decays:
        # each length is its own run, read at its last epoch
        for budget, t in table[table["series"].isin(["article", "long"])].groupby("budget"):
            if budget != 1.0:
                is_long = (t["series"] == "long").any()
                rows.append(_row(c, "long" if is_long else "article",
                                 _compare(t, c), int(t["epochs"].iloc[0]),
                                 _endpoint(c, "article"), P_paper,
                                 planned=_planned(P, "long") if is_long else None,
                                 gap=_baseline_gap(t, c)))
        if "long" in P and not (table["series"] == "long").any():
            rows.append(_row(c, "long", None, P["long"]["epochs"],
                             _endpoint(c, "article"), P_paper,
                             planned=_planned(P, "long")))
    elif (by_epoch := long_effect(c, table, profile)) is not None and len(by_epoch):
        last = by_epoch.iloc[-1]
        in_points = by_epoch[["ours", "ci95_low", "ci95_high"]].mul(100)
        others = "; ".join(f"{int(e)}: {_ours_cell(r)}" for e, r in
                           zip(by_epoch["epochs"], in_points.itertuples())
                           if e in length_effect.report_lengths(int(last.epochs),
                                                                P["epochs"])[:-1])
        cross = length_effect.crossings(by_epoch)
        sign = (f"changes sign at epoch{'s' if len(cross) > 1 else ''} {_and(cross)}"
                if cross else "never changes sign")
        note = (f"other lengths (epochs: points [95 % CI]; table "
                f"tables/{c.notebook}_{length_effect_name(c)}.md): {others}; the windowed gain "
                f"{sign}; baseline train − test at the end "
                f"{100 * last.baseline_train_test_gap:.1f} points")
        rows.append(_row(c, "long", {"diff": last.ours, "ci_low": last.ci95_low,
                                     "ci_high": last.ci95_high, "n_pairs": int(last.n_pairs),
                                     "mde": last.mde, "se": last.se, "df": last.df},
                         int(last.epochs),
                         f"window mean ({stats.WINDOW_NAME})", P_paper, note=note,
                         planned=_planned(P, "long"), gap=last.baseline_train_test_gap))
    elif c.long and "long" in P:
        rows.append(_row(c, "long", None, P["long"]["epochs"], f"window mean ({stats.WINDOW_NAME})",
                         P_paper, planned=_planned(P, "long")))
    return rows


def long_effect(c: Claim, table: pd.DataFrame, profile: str) -> pd.DataFrame | None:
    """The claim's gain at every epoch of its finished long runs
    (:func:`length_effect.by_epoch`: seeds both arms finished), or ``None``
    without long runs of both arms."""
    if not c.long or "series" not in table:
        return None
    long = table[(table["series"] == "long") & table[c.by].isin([c.a, c.b])]
    if not len(long) or not {c.a, c.b} <= set(long[c.by]):
        return None
    return length_effect.by_epoch(compute.load_histories(long, profile), c.by, c.a, c.b)


def length_effect_name(c: Claim) -> str:
    """The name of a claim's effect-against-length table and figure."""
    return f"length_effect_{c.key.split('.', 1)[1]}"


def write_length_effects(profile: str, ledger_table: pd.DataFrame, log=print) -> list:
    """For every headline claim with finished long runs of a constant-rate
    recipe: ``tables/<nb>_length_effect_<key>.{csv,md}`` (the reported lengths)
    and ``figures/<nb>/length_effect_<key>.png``, the decayed pair and the
    article's gain marked. Returns the figure paths."""
    import matplotlib.pyplot as plt

    out = []
    for c in (c for c in claims() if c.headline and c.long and not c.recipe_decays):
        table = compute.ensure_all(c.notebook, profile, train=False, log=lambda s: None)
        by_epoch = long_effect(c, table, profile) if len(table) else None
        if by_epoch is None or by_epoch.empty:
            continue
        P, P_paper = profiles.load(c.notebook, profile), profiles.load(c.notebook, "paper")
        name = length_effect_name(c)
        shown = by_epoch[by_epoch["epochs"].isin(
            length_effect.report_lengths(int(by_epoch["epochs"].max()), P["epochs"]))]
        report.write_table(shown, profile, f"{c.notebook}_{name}")
        dec = ledger_table[(ledger_table["key"] == c.key) & (ledger_table["series"] == "decayed")]
        decayed = None
        if len(dec) and pd.notna(dec["ours"].iloc[0]):
            d = dec.iloc[0]
            decayed = {"epochs": int(d["epochs"]), "ours": d["ours"] / 100,
                       "ci95_low": d["ci95_low"] / 100, "ci95_high": d["ci95_high"] / 100,
                       "n_pairs": d["n"]}
        article = ((P_paper["epochs"], c.article_effect) if c.article_effect is not None
                   else None)
        fig = length_effect.figure(by_epoch, decayed=decayed, article=article,
                                   title=f"{c.text}: gain against training length, "
                                         f"{profile} profile", baseline=f"{c.by} {c.a}")
        out.append(report.save_figure(fig, profile, c.notebook, name))
        plt.close(fig)
        log(f"wrote {out[-1]}")
    return out


def _level_rows(table: pd.DataFrame, notebook: str, P: dict, P_paper: dict,
                profile: str) -> list[dict]:
    """Claims about a level or a measurement, not a difference between arms' runs."""
    rows = []
    if notebook == "training_tricks":
        rows.append(_latency_row(profile, P, P_paper))
    if notebook == "bc_learning":
        c = Claim(notebook, "bc.test_above_train", "under BC, test accuracy is above training "
                  "accuracy (case 1)", "measure", "train", "test", +1, None, "test above train",
                  note="training accuracy under BC is measured against mixed labels")
        t = _profile_length(table)
        t = t[t["case"] == 1]
        both = pd.concat([t.assign(measure="train", value=t["final_train_accuracy"]),
                          t.assign(measure="test", value=t["final_test_accuracy"])])
        r = stats.compare(both, "measure", "train", "test", "value") if len(t) else None
        rows.append(_row(c, "article", r, P["epochs"], "last epoch", P_paper))
    if notebook == "natural_artificial_loss":
        c = Claim(notebook, "natural.above_90", natural_artificial_loss.CLAIMS["stably_above_90"],
                  "pattern", None, "natural_softmax", +1, None, "> 90 %",
                  metric="best_test_accuracy")
        best = table.loc[table["pattern"] == "natural_softmax", "best_test_accuracy"]
        why = (f"our Natural SoftMax's best test accuracy tops out at {100 * best.max():.1f} % "
               "with a narrower model and far fewer epochs than the article's"
               if len(best) else "no runs yet")
        if len(best) and best.max() >= 0.9:
            why = None
        rows.append(_row(c, "article", None, P["epochs"], "best epoch", P_paper,
                         untestable=why))
    return rows


#: bootstrap resamples of the latency ratio's interval
LATENCY_RESAMPLES = 2000


def latency_ratio(calls: pd.DataFrame, a: str, b: str, resamples: int = LATENCY_RESAMPLES,
                  seed: int = 0) -> dict:
    """How much slower model ``b`` answers than ``a`` at batch 1: the ratio of
    their median call times minus 1 (0.5: 50 % slower), with a 95 % percentile
    bootstrap interval over the calls (``calls``: columns ``model``,
    ``seconds``, one row per timed call)."""
    x = calls.loc[calls["model"] == a, "seconds"].to_numpy(float)
    y = calls.loc[calls["model"] == b, "seconds"].to_numpy(float)
    rng = np.random.default_rng(seed)
    boot = (np.median(rng.choice(y, (resamples, len(y))), axis=1)
            / np.median(rng.choice(x, (resamples, len(x))), axis=1)) - 1
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"diff": float(np.median(y) / np.median(x) - 1), "ci_low": float(low),
            "ci_high": float(high), "n_a": len(x), "n_b": len(y)}


def _latency_row(profile: str, P: dict, P_paper: dict) -> dict:
    """The article's trade-off, its latency half: the more accurate
    architecture answers a batch-1 call more slowly (measured once on this
    machine, cached: ``lib.measure.timing.inference_latency``)."""
    from ..campaign.experiments.training_tricks import ARTICLE_ARCHITECTURES as ARCH
    from ..store import measurements

    small, big = ARCH["ResNet-34"]["latency_ms"], ARCH["ResNeXt-50-32x4d"]["latency_ms"]
    c = Claim("training_tricks", "tricks.latency", "the larger architecture is slower at "
              "batch 1 (ResNet-20 v1 over the cnn10 baseline; % of the baseline's latency)",
              "model", "baseline", "resnet20_v1", +1, big / small - 1,
              f"{100 * (big / small - 1):+.0f} % ({big:.0f} vs {small:.0f} ms, ResNeXt-50 vs "
              "ResNet-34)", article_epochs=None)
    stored = [d for d in measurements.read_all(profile, "inference_latency")
              if {c.a, c.b} <= set(d["request"].get("models", {}))]
    if not stored:
        return _row(c, "article", None, P["epochs"], "median batch-1 call", P_paper,
                    note="no latency measured yet")
    calls = pd.DataFrame(stored[-1]["rows"])
    r = latency_ratio(calls, c.a, c.b)
    env = stored[-1]["environment"]
    row = _row(c, "article", r, P["epochs"], "median batch-1 call", P_paper,
               note=f"latency in % of the baseline's, not points; {r['n_a']} calls per model "
                    f"on {env.get('cpu')} ({env.get('cpu_count')} cores), {env['backend']}; "
                    "bootstrap interval over calls")
    return {**row, "n": f"{r['n_a']} vs {r['n_b']} calls"}


def ledger(profile: str, log=lambda s: None, notebooks=None) -> pd.DataFrame:
    """Every claim's rows from the finished runs of ``profile`` (``COLUMNS``),
    of every notebook or of ``notebooks``."""
    rows = []
    for nb in notebooks or profiles.notebooks():
        if not profiles.has_profile(nb, profile):
            continue
        P, P_paper = profiles.load(nb, profile), profiles.load(nb, "paper")
        table = compute.ensure_all(nb, profile, train=False, log=log)
        nb_claims = [c for c in claims() if c.notebook == nb]
        if table.empty:
            rows += [_row(c, "article", None, P["epochs"], _ENDPOINT["article"], P_paper,
                          note="no finished runs yet") for c in nb_claims]
            continue
        for c in nb_claims:
            rows += _claim_rows(c, table, P, P_paper, profile)
        rows += _level_rows(table, nb, P, P_paper, profile)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def decisive(ledger_table: pd.DataFrame) -> pd.DataFrame:
    """Each claim's most decisive row: one with an interval first (a single
    pair or no finished run cannot decide), then one whose planned pairs have
    all finished (a series still being trained would flip the claim's count
    back and forth as its runs land), then the long series, else the decayed
    one, else the article's recipe, the longest first (a recipe that decays
    itself trains each length as a run of its own); claims in the ledger's
    order."""
    def number(col):   # n "6/1" (unpaired arms) and a missing count compare as nan
        return pd.to_numeric(ledger_table.get(col, pd.Series(math.nan, ledger_table.index)),
                             errors="coerce")

    t = ledger_table.assign(
        _empty=ledger_table["ci95_low"].isna() & ~ledger_table["status"].eq(Status.NOT_TESTABLE),
        _partial=number("n") < number("n_planned"),
        _rank=ledger_table["series"].map({"long": 0, "decayed": 1, "article": 2}),
        _order=range(len(ledger_table)))
    first = t.groupby("key", sort=False)["_order"].transform("min")
    return (t.assign(_first=first)
            .sort_values(["_first", "_empty", "_partial", "_rank", "epochs"],
                         ascending=[True, True, True, True, False])
            .groupby("key", sort=False).head(1)
            .drop(columns=["_empty", "_partial", "_rank", "_order", "_first"]))


def summary(ledger_table: pd.DataFrame) -> pd.DataFrame:
    """Per article: how many claims have each status, counting each claim once
    at its most decisive measurement (:func:`decisive`)."""
    best = decisive(ledger_table)
    counts = pd.crosstab(best["article"], best["status"].map(lambda s: STATUS_WORDS[Status(s)]))
    order = [STATUS_WORDS[s] for s in Status if STATUS_WORDS[s] in counts.columns]
    counts = counts[order].reindex([nb for nb in profiles.notebooks() if nb in counts.index])
    counts["claims"] = counts.sum(axis=1)
    return counts.reset_index()


def _status_p(rows: pd.DataFrame) -> list:
    """Two-sided p of the test each row's status reads: its effect against 0,
    or against the article's number where it is "smaller than claimed"."""
    ref = rows["article_effect"].where(rows["status"].eq(Status.SMALLER), 0.0)
    return [stats.t_p(o - r, se, df) if se > 0 else math.nan
            for o, r, se, df in zip(rows["ours"], ref, rows["se"], rows["df"])]


def _with_spread(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows[["ours", "se", "df"]].notna().all(axis=1) & (rows["se"] > 0)].copy()


def holm_check(ledger_table: pd.DataFrame) -> pd.DataFrame:
    """Each claim's counted measurement (:func:`decisive`) that has a t
    interval, with ``p`` (:func:`_status_p`) and ``p_holm``: that p
    Holm-adjusted within the article's counted measurements, the family of
    claims the article tests; ``family``: its size."""
    best = _with_spread(decisive(ledger_table))
    best["p"] = _status_p(best)
    by_article = best.groupby("article", sort=False)["p"]
    best["p_holm"] = by_article.transform(
        lambda p: pd.Series(stats.holm(p.to_numpy()), index=p.index))
    best["family"] = by_article.transform("size")
    return best


def _holds_elsewhere(ledger_table: pd.DataFrame, r) -> str:
    """Another measurement of ``r``'s claim, its planned pairs all finished,
    with the same status that holds even at the family's strictest Holm level
    (5 % / family), in words. Picking the best of a claim's measurements is
    itself a choice among tests: this says that one exists, not that the
    claim counts there."""
    def partial(t):
        n = pd.to_numeric(t["n"], errors="coerce")
        return n < pd.to_numeric(t["n_planned"], errors="coerce")

    same = ledger_table[(ledger_table["key"] == r.key) & ledger_table["status"].eq(r.status)
                        & ~((ledger_table["series"] == r.series)
                            & (ledger_table["epochs"] == r.epochs))]
    same = _with_spread(same[~partial(same)])
    for o, p in zip(same.itertuples(), _status_p(same)):
        if p < stats.ALPHA / r.family:
            return (f"; its {o.series} series, {o.epochs} ep, n {_n_cell(o)}, holds "
                    f"(not the counted measurement): "
                    + ("p < 0.001" if p < 0.001 else f"p {p:.3f}"))
    return ""


_DECIDED = (Status.SUPPORTED, Status.CONTRADICTED, Status.SMALLER)


def holm_sentence(ledger_table: pd.DataFrame) -> str:
    """Which decided counts would no longer be decided once each article's
    family of claims is adjusted for (Holm, 5 %), whether another measurement
    of the same claim would be, and which decided counts have no t interval to
    adjust."""
    t = holm_check(ledger_table)
    decided = t[t["status"].isin(_DECIDED)]
    weak = decided[decided["p_holm"] >= stats.ALPHA]
    best = decisive(ledger_table)
    no_t = best[best["status"].isin(_DECIDED) & ~best["key"].isin(t["key"])]
    head = ("Adjusted for the number of claims each article tests (Holm over the article's "
            "counted measurements with a t interval, 5 %; the headline table's Holm MDEs use "
            "another family, its short measurements), ")
    if not len(decided):
        text = head + "no count with a t interval is decided."
    elif not len(weak):
        text = head + f"every one of the {len(decided)} decided counts holds."
    else:
        def item(r):
            vs = (f" against the article's {r.article_effect:+.2f}"
                  if Status(r.status) is Status.SMALLER else "")
            return (f"{r.claim} ({r.status_text} at the {r.series} series, {r.epochs} ep; "
                    f"p {r.p:.3f}{vs}, Holm {r.p_holm:.3f}{_holds_elsewhere(ledger_table, r)})")
        per_article = [f"{nb}: " + ", ".join(item(r) for r in g.itertuples())
                       for nb, g in weak.groupby("article", sort=False)]
        text = head + (f"{len(weak)} of the {len(decided)} decided counts would no longer be "
                       "decided: " + "; ".join(per_article) + ".")
    if len(no_t):
        text += (" Not adjusted (no t interval): "
                 + ", ".join(f"{r.claim} ({r.status_text})" for r in no_t.itertuples()) + ".")
    return text


def _article_cell(r) -> str:
    ep = r.article_epochs
    known = ep is not None and not (isinstance(ep, float) and math.isnan(ep))
    return (f"{r.article_says} ({int(ep)} ep)" if known else r.article_says) or "–"


def _fmt(v, spec="+.2f"):
    return "–" if _missing(v) else format(v, spec)


def markdown(ledger_table: pd.DataFrame, profile: str, headline_only: bool = False) -> str:
    """The ledger as markdown: the summary, then one table per article."""
    lines = [f"Claims ledger of the `{profile}` profile, computed from its finished runs "
             "(`python -m lib claims`); effects in points of test accuracy (b − a), 95 % t "
             "intervals paired by seed, not adjusted for multiplicity; MDE: the smallest effect "
             "the runs could detect (80 % power, two-sided 5 %). The notebooks' figures and "
             "tables say on which side of zero an interval lies (helps / hurts / "
             "inconclusive); the ledger holds it against the article's claim (a claimed loss "
             f"that we measure is supported). {STATUS_LEGEND}", "",
             report.to_markdown(summary(ledger_table)).rstrip(), "",
             holm_sentence(ledger_table), "",
             headline_markdown(ledger_table), "", "Every claim and measurement:", ""]
    t = ledger_table[ledger_table["headline"]] if headline_only else ledger_table
    for nb, g in t.groupby("article", sort=False):
        lines += [f"### {nb}", "", table_markdown(g), ""]
    return "\n".join(lines).rstrip() + "\n"


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _ours_cell(r, say_missing: bool = True) -> str:
    """"+1.20 [+0.10, +2.30]"; without an interval "+1.20 (no interval)", or
    the bare number where the text around it says so (``say_missing=False``)."""
    if _missing(r.ours):
        return "–"
    if _missing(r.ci95_low):
        return f"{_fmt(r.ours)} (no interval)" if say_missing else _fmt(r.ours)
    return f"{_fmt(r.ours)} [{_fmt(r.ci95_low)}, {_fmt(r.ci95_high)}]"


def _count(n):
    """A count read back from a CSV ("3", 3.0) as an int; other text as it is."""
    try:
        return int(float(n))
    except (TypeError, ValueError):
        return n


def _n_cell(r) -> str:
    """n, and the pairs the profile plans where it plans more ("1 of 3"); arms
    compared unpaired give each one's runs ("6 vs 1 runs (unpaired)")."""
    planned = getattr(r, "n_planned", None)
    n = 0 if _missing(r.n) else _count(r.n)
    if "/" in str(n):   # no shared seeds to pair on: each arm's count
        return "{} vs {} runs (unpaired)".format(*str(n).split("/"))
    if _missing(planned) or n == int(planned):
        return str(n)
    return f"{n} of {int(planned)}"


def table_markdown(rows: pd.DataFrame) -> str:
    """Ledger rows as one markdown table, their notes below it."""
    lines = ["| claim | series | article | ours [95 % CI] | n | epochs | endpoint | MDE | "
             "baseline train − test | status |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows.itertuples():
        gap = _fmt(getattr(r, "baseline_gap", None), ".1f")
        lines.append(f"| {r.claim} | {r.series} | {_article_cell(r)} | {_ours_cell(r)} | "
                     f"{_n_cell(r)} | {r.epochs} | {r.endpoint} | {_fmt(r.mde, '.1f')} | "
                     f"{gap} | **{r.status_text}** |")
    notes = [f"- {r.claim} ({r.series}): {r.note}" for r in rows.itertuples()
             if r.note and Status(r.status) is not Status.NOT_TESTABLE]
    return "\n".join(lines + ([""] + notes if notes else []))


def write(profile: str, log=print) -> tuple:
    """``results/<profile>/claims.csv`` and ``claims.md``; their paths."""
    table = ledger(profile, log=log)
    write_length_effects(profile, table, log=log)
    root = profile_dir(profile)
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "claims.csv", index=False)
    (root / "claims.md").write_text(f"# Claims ledger: `{profile}` profile\n\n"
                                    + markdown(table, profile))
    return root / "claims.csv", root / "claims.md"


def answer(ledger_table: pd.DataFrame) -> str:
    """A notebook's answer in markdown, one line per claim at its most decisive
    measurement, the other measurements' statuses beside: all from the rows."""
    lines = []
    for r in decisive(ledger_table).itertuples():
        others = ledger_table[(ledger_table["key"] == r.key) & ~(
            (ledger_table["series"] == r.series) & (ledger_table["epochs"] == r.epochs))]
        ci = "no interval" if _missing(r.ci95_low) else "95 % CI"
        ours = (f"ours {_ours_cell(r, say_missing=False)} points ({ci}; {r.series} "
                f"series, {r.epochs} epochs, n = {_n_cell(r)})" if not _missing(r.ours)
                else "no measurement yet")
        also = "; ".join(f"{o.series} series at {o.epochs} epochs: {o.status_text}"
                         for o in others.itertuples())
        lines.append(f"- **{r.claim}** (article: {_article_cell(r)}): {ours}: "
                     f"**{r.status_text}**." + (f" Also {also}." if also else ""))
    return "\n".join(lines)


README_MARKERS = ("<!-- ledger:start -->", "<!-- ledger:end -->")


def by_length(ledger_table: pd.DataFrame, key: str) -> dict:
    """A claim's row for each training length a reader compares: ``short``,
    the quiet endpoint at the profile's length (both arms ending on a decay:
    the decayed series, or the article's recipe where it decays itself, as
    mixup's does: ``Claim.recipe_decays``), and ``long``, its longest
    measurement of the long series (for a recipe that decays, its longest run
    with an interval). ``None`` where it has none."""
    t = ledger_table[ledger_table["key"] == key]
    out = {"short": None, "long": None}
    dec = t[t["series"] == "decayed"]
    if len(dec):
        out["short"] = dec.iloc[0]
    long = t[t["series"] == "long"]
    if next(c for c in claims() if c.key == key).recipe_decays:
        # its own first row (the profile's length) is quiet, and each other
        # length is a run of its own: the longest one with an interval
        out["short"] = t[t["series"] == "article"].iloc[0]
        others = t.iloc[1:]
        measured = others[others["ci95_low"].notna()].sort_values("epochs")
        out["long"] = measured.iloc[-1] if len(measured) else (long.iloc[-1] if len(long) else None)
        return out
    if len(long):
        out["long"] = long.sort_values("epochs").iloc[-1]
    return out


def mde_holm(r, family: int) -> float:
    """The row's minimum detectable effect at the strictest Holm level of a
    family of ``family`` comparisons (0.05 / family): nan without a spread."""
    se, df = getattr(r, "se", math.nan), getattr(r, "df", math.nan)
    if _missing(se) or _missing(df) or family < 1:
        return math.nan
    return stats.min_detectable(float(se), float(df), stats.ALPHA / family)


def _length_cell(r, family: int = 0, counted: bool = False, long: bool = False) -> str:
    """One length's answer in a README cell: status first (``counted``: with
    a † as the measurement the counts use), then the numbers; the MDE, and
    beside it the Holm-adjusted one over ``family`` comparisons; for a
    ``long`` cell, whether its baseline overfit."""
    if r is None:
        return "–"
    mark = " †" if counted else ""
    if _missing(r.ours):
        return f"{r.status_text}{mark}; {r.epochs} ep, n {_n_cell(r)}"
    mde = "" if _missing(r.mde) else f", MDE {r.mde:.1f}"
    holm = mde_holm(r, family)
    if mde and not _missing(holm):
        mde += f" (Holm {holm:.1f})"
    gap = "" if _missing(r.baseline_gap) else f", baseline train − test {r.baseline_gap:.1f}"
    if gap and long:
        gap += (" (overfits)" if r.baseline_gap >= 100 * length_effect.OVERFIT_GAP
                else " (does not overfit)")
    return (f"**{r.status_text}**{mark}: {_ours_cell(r, say_missing=False)} at {r.epochs} ep, "
            f"n {_n_cell(r)}"
            f"{mde}{gap}")


def readme_summary(ledger_table: pd.DataFrame, profile: str) -> str:
    """What the top-level README shows: the summary per article, and each
    headline claim at the profile's length with a quiet endpoint and at its
    longest training, linking the whole ledger."""
    lines = [f"Claims per article by status. {COUNTING_RULE} Statuses read 95 % intervals "
             "not adjusted for multiplicity (the headline table's short cells give the MDE at "
             f"the Holm level too). {STATUS_LEGEND}",
             "",
             report.to_markdown(summary(ledger_table)).rstrip(), "",
             holm_sentence(ledger_table), "",
             headline_markdown(ledger_table), "",
             f"Every claim, with its notes: [results/{profile}/claims.md]"
             f"(results/{profile}/claims.md)."]
    return "\n".join(lines)


def headline_markdown(ledger_table: pd.DataFrame) -> str:
    """The headline claims, each at both lengths (:func:`by_length`)."""
    overfit = f"{100 * length_effect.OVERFIT_GAP:g}"
    lines = ["The headline claims at two training lengths. **Short**: the profile's length, "
             "both arms ending on a learning-rate decay (the decayed series, ours where the "
             "article's recipe keeps a constant rate; mixup's recipe decays itself), so the "
             "endpoint is quiet. **Long** (the long series): the article's recipe trained "
             "longer, for its baseline (arm a) to "
             f"overfit: its train accuracy {overfit} points or more above its test accuracy "
             "(train accuracy is the running mean over each epoch's batches, augmented or mixed "
             "where the recipe does so, which understates the gap). A recipe that decays itself "
             "(mixup's) trains each length as a run of its own: its long cell is its longest "
             "length with an interval. Points of test accuracy, 95 % interval paired by seed; "
             "n: pairs finished of those planned; MDE: the smallest effect the pairs could "
             "detect (80 % power, two-sided 5 %), in parentheses at the Holm level for the "
             "family of the short measurements; †: the measurement the counts above use. "
             "+DA, +BN: the ResNet ablation's steps adding data augmentation and batch "
             "normalization; Natural SoftMax: the auxiliary natural-vs-artificial loss.",
             "",
             "| headline claim | article | short: both arms end on a decay | long: the "
             "article's recipe, trained longer |",
             "| --- | --- | --- | --- |"]
    head = ledger_table[ledger_table["headline"]]
    keys = list(dict.fromkeys(head["key"]))
    rows = {key: by_length(head, key) for key in keys}
    # the short measurements are one family: each headline claim tested once
    family = sum(r["short"] is not None and not _missing(getattr(r["short"], "se", math.nan))
                 for r in rows.values())
    best = {r.key: r for r in decisive(head).itertuples()}

    def is_counted(r) -> bool:
        b = best.get(r.key) if r is not None else None
        return b is not None and (b.series, b.epochs) == (r.series, r.epochs)

    for key in keys:
        first = head[head["key"] == key].iloc[0]
        short, long = rows[key]["short"], rows[key]["long"]
        long_cell = _length_cell(long, counted=is_counted(long), long=True)
        planned = head[(head["key"] == key) & (head["series"] == "long")]
        if long is not None and long.series != "long" and len(planned):
            # a recipe that decays: its long cell is a shorter length of the article series
            p = planned.sort_values("epochs").iloc[-1]
            long_cell += f" (article series; the {p.epochs}-ep long series: n {_n_cell(p)})"
        if not (is_counted(short) or is_counted(long)):
            # the counts use a measurement neither cell shows: name it
            b = best[key]
            long_cell += f" (counted: {b.series} series at {b.epochs} ep, {b.status_text})"
        lines.append(f"| {first.claim} | {_article_cell(first)} | "
                     f"{_length_cell(short, family, counted=is_counted(short))} | {long_cell} |")
    return "\n".join(lines)


def update_readme(profile: str, readme=None):
    """Replace the text between :data:`README_MARKERS` in the top-level README
    with :func:`readme_summary` of the stored ledger; the README's path."""
    from ..store.paths import REPO
    path = readme or REPO / "README.md"
    text = path.read_text()
    start, end = README_MARKERS
    if start not in text or end not in text:
        raise ValueError(f"{path} lacks the ledger markers {start} ... {end}")
    table = pd.read_csv(profile_dir(profile) / "claims.csv")
    table["headline"] = table["headline"].astype(bool)
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{readme_summary(table, profile)}\n{end}{tail}")
    return path

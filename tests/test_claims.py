"""lib.analysis.claims and length_effect: statuses follow from the numbers,
the ledger's rows from the runs, and the committed ledger is consistent."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from lib.analysis import claims, length_effect, stats
from lib.analysis.claims import Status, status

pytestmark = pytest.mark.backend_free
REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("low, high, direction, effect, expected", [
    (0.5, 2.0, +1, 1.8, Status.SUPPORTED),          # excludes 0 on the article's side
    (-2.0, -0.5, -1, None, Status.SUPPORTED),
    (-2.0, -0.5, +1, 1.8, Status.CONTRADICTED),     # excludes 0 on the other side
    (0.5, 2.0, -1, -1.3, Status.CONTRADICTED),
    (-0.7, 0.9, +1, 1.8, Status.SMALLER),           # holds 0, excludes the article's +1.8
    (-0.9, 0.7, -1, -1.3, Status.SMALLER),
    (-0.7, 2.5, +1, 1.8, Status.UNRESOLVED),        # holds both
    (-0.7, 0.9, +1, None, Status.UNRESOLVED),       # no size to exclude
    (math.nan, math.nan, +1, 1.8, Status.UNRESOLVED),
])
def test_status_follows_the_interval_the_direction_and_the_claimed_size(low, high, direction,
                                                                        effect, expected):
    assert status(low, high, direction, effect) is expected
    assert status(low, high, direction, effect, untestable="why") is Status.NOT_TESTABLE


def test_status_text_names_what_a_reader_needs():
    row = {"status": Status.UNRESOLVED, "mde": 2.14, "n": 6, "note": ""}
    assert claims.status_text(row) == "unresolved (could detect ≥ 2.1 points)"
    assert claims.status_text({**row, "mde": math.nan, "n": 0}) == \
        "unresolved (no finished pair yet)"
    assert claims.status_text({**row, "mde": math.nan, "n": "3/1"}).endswith("2 runs a side)")
    assert claims.status_text({"status": Status.NOT_TESTABLE, "note": "too small"}) == \
        "not testable at this scale (too small)"
    assert claims.status_text({"status": Status.SMALLER}) == "smaller than claimed"
    # a decided claim whose arms differ in more than the named change says so
    assert claims.status_text({"status": Status.SUPPORTED, "confounded": True}) == \
        "supported (confounded)"
    # the flag decides, not the note's wording
    assert claims.status_text({"status": Status.SUPPORTED, "confounded": False,
                               "note": "confounded: 8× fewer updates"}) == "supported"


def _bc_table():
    rows = []
    for series, gain in (("article", 0.002), ("decayed", 0.02)):
        for seed in range(6):
            base = 0.6 + 0.01 * seed
            for case, acc in ((0, base), (1, base + gain + 0.001 * (seed % 2))):
                rows.append({"case": case, "seed": seed, "series": series, "budget": 1.0,
                             "epochs": 4, "final_test_accuracy": acc,
                             "final_train_accuracy": acc - 0.05 * case,
                             "best_test_accuracy": acc})
    return pd.DataFrame(rows)


def test_a_claims_rows_are_its_comparisons_on_each_series():
    c = next(c for c in claims.claims() if c.key == "bc.0-1")
    P = {"epochs": 4, "decayed": {"seeds": list(range(6))}, "long": {"epochs": 48, "seeds": [0, 1, 2]}}
    paper = {"epochs": 250}
    rows = claims._claim_rows(c, _bc_table(), P, paper, "nowhere")
    # the long series has no finished pair: its row says so, with what is planned
    assert [r["series"] for r in rows] == ["article", "decayed", "long"]
    assert rows[2]["n"] == 0 and rows[2]["n_planned"] == 3 and rows[2]["epochs"] == 48
    assert rows[2]["status_text"] == "unresolved (no finished pair yet)"
    dec = rows[1]
    assert dec["n_planned"] == 6
    base = _bc_table().query("series == 'decayed' and case == 0")
    assert dec["baseline_gap"] == pytest.approx(
        100 * (base["final_train_accuracy"] - base["final_test_accuracy"]).mean())
    r = stats.compare(_bc_table().query("series == 'decayed'"), "case", 0, 1)
    assert dec["ours"] == pytest.approx(100 * r["diff"]) and dec["n"] == 6
    assert (dec["ci95_low"], dec["ci95_high"]) == pytest.approx((100 * r["ci_low"],
                                                                  100 * r["ci_high"]))
    assert dec["status"] is Status.SUPPORTED and dec["article_epochs"] == 250
    from lib.campaign.experiments.bc_learning import ARTICLE
    assert rows[0]["article_effect"] == pytest.approx(100 * (ARTICLE[1] - ARTICLE[0]))
    assert rows[0]["status"] is status(rows[0]["ci95_low"], rows[0]["ci95_high"], +1,
                                       rows[0]["article_effect"])


def test_a_confounded_claims_rows_carry_the_flag_and_name_the_confound():
    c = next(c for c in claims.claims() if c.key == "bc.1-3")
    t = pd.DataFrame([{"case": case, "seed": seed, "series": "article", "budget": 1.0,
                       "epochs": 4, "final_test_accuracy": 0.6 - 0.05 * (case == 3) + 0.01 * seed,
                       "final_train_accuracy": 0.6, "best_test_accuracy": 0.6}
                      for seed in range(3) for case in (1, 3)])
    row, = claims._claim_rows(c, t, {"epochs": 4}, {"epochs": 250}, "nowhere")
    assert row["confounded"] is True and row["note"] == f"confounded: {c.confound}"
    assert row["status"] is Status.SUPPORTED and row["status_text"] == "supported (confounded)"
    plain = next(c for c in claims.claims() if c.key == "bc.1-4")
    assert not plain.confound


def test_summary_counts_each_claim_once_at_its_most_decisive_measurement():
    t = pd.DataFrame([
        {"article": "bc_learning", "key": "k1", "series": "article", "epochs": 4, "ours": 0.1,
         "ci95_low": -1.0, "status": Status.UNRESOLVED},
        {"article": "bc_learning", "key": "k1", "series": "long", "epochs": 48, "ours": 1.0,
         "ci95_low": 0.5, "status": Status.SUPPORTED},
        {"article": "bc_learning", "key": "k2", "series": "decayed", "epochs": 4, "ours": -1.0,
         "ci95_low": -1.5, "status": Status.CONTRADICTED},
        {"article": "bc_learning", "key": "k2", "series": "article", "epochs": 4, "ours": 0.2,
         "ci95_low": -1.0, "status": Status.UNRESOLVED},
        # a long series with no finished runs yet does not outrank a measured row
        {"article": "bc_learning", "key": "k3", "series": "long", "epochs": 48, "ours": math.nan,
         "ci95_low": math.nan, "status": Status.UNRESOLVED},
        {"article": "bc_learning", "key": "k3", "series": "article", "epochs": 4, "ours": 2.0,
         "ci95_low": 0.5, "status": Status.SMALLER},
        # nor does a single long pair (an estimate without an interval)
        {"article": "bc_learning", "key": "k4", "series": "long", "epochs": 30, "ours": 1.2,
         "ci95_low": math.nan, "status": Status.UNRESOLVED},
        {"article": "bc_learning", "key": "k4", "series": "decayed", "epochs": 3, "ours": -7.0,
         "ci95_low": -8.0, "status": Status.CONTRADICTED},
        # nor a long series with an interval but pairs still to train (2 of 3) ...
        {"article": "bc_learning", "key": "k5", "series": "long", "epochs": 30, "ours": 4.4,
         "ci95_low": -7.9, "n": 2, "n_planned": 3, "status": Status.UNRESOLVED},
        {"article": "bc_learning", "key": "k5", "series": "decayed", "epochs": 3, "ours": 4.8,
         "ci95_low": 2.9, "n": 6, "n_planned": 6, "status": Status.SUPPORTED},
        # ... unless nothing else has an interval
        {"article": "bc_learning", "key": "k6", "series": "long", "epochs": 30, "ours": 4.4,
         "ci95_low": -7.9, "n": 2, "n_planned": 3, "status": Status.UNRESOLVED},
        {"article": "bc_learning", "key": "k6", "series": "article", "epochs": 3, "ours": 1.0,
         "ci95_low": math.nan, "n": "6/1", "status": Status.UNRESOLVED}])
    assert claims.decisive(t)["series"].tolist() == ["long", "decayed", "article", "decayed",
                                                     "decayed", "long"]
    s = claims.summary(t).set_index("article")
    assert s.loc["bc_learning", "claims"] == 6
    assert s.loc["bc_learning", "supported"] == 2 and s.loc["bc_learning", "contradicted"] == 2
    assert s.loc["bc_learning", "smaller than claimed"] == 1
    assert s.loc["bc_learning", "unresolved"] == 1


def _ledger_row(key, series, epochs, ours, low, high, n, planned, status_, gap=math.nan,
                claim="a claim", article="bc_learning"):
    row = {"article": article, "key": key, "claim": claim, "headline": True, "series": series,
           "article_effect": 1.8, "article_says": "+1.80", "article_epochs": 250, "ours": ours,
           "ci95_low": low, "ci95_high": high, "n": n, "n_planned": planned, "epochs": epochs,
           "endpoint": "", "mde": 1.0 if not math.isnan(low) else math.nan, "baseline_gap": gap,
           "status": status_, "note": ""}
    row["status_text"] = claims.status_text(row)
    return row


def test_the_readme_shows_each_headline_claim_short_and_long():
    t = pd.DataFrame([
        _ledger_row("bc.0-1", "article", 4, -0.2, -2.4, 2.1, 6, math.nan, Status.UNRESOLVED),
        {**_ledger_row("bc.0-1", "decayed", 4, -2.0, -2.7, -1.3, 6, 6, Status.CONTRADICTED, 2.1),
         "se": 0.3, "df": 5},
        _ledger_row("bc.0-1", "long", 48, 1.2, math.nan, math.nan, 1, 3, Status.UNRESOLVED, 26.8),
        # mixup's recipe decays: its first row is the short one, its longest measured the long
        {**_ledger_row("mixup.0.2", "article", 3, -0.9, -1.3, -0.5, 6, math.nan,
                       Status.CONTRADICTED, claim="mixup", article="mixup_baseline"),
         "se": 0.2, "df": 5},
        _ledger_row("mixup.0.2", "article", 6, -0.1, -1.3, 1.1, 3, math.nan, Status.SMALLER,
                    claim="mixup", article="mixup_baseline"),
        _ledger_row("mixup.0.2", "long", 15, math.nan, math.nan, math.nan, 0, 3,
                    Status.UNRESOLVED, claim="mixup", article="mixup_baseline")])
    rows = claims.by_length(t, "bc.0-1")
    assert (rows["short"]["series"], rows["long"]["epochs"]) == ("decayed", 48)
    m = claims.by_length(t, "mixup.0.2")
    assert (m["short"]["epochs"], m["long"]["epochs"]) == (3, 6)
    text = claims.readme_summary(t, "budget")
    bc = next(line for line in text.splitlines() if line.startswith("| a claim"))
    short, long = bc.split(" | ")[2:4]
    assert short.startswith("**contradicted** †: -2.00 [-2.70, -1.30] at 4 ep, n 6, MDE 1.0")
    assert "baseline train − test 2.1" in short
    # the short measurements with a spread form the Holm family (here bc's and mixup's: 2)
    holm = stats.min_detectable(0.3, 5, 0.05 / 2)
    assert holm > 1.0 and f"MDE 1.0 (Holm {holm:.1f})" in short
    assert "Holm" not in long
    assert long.startswith("**unresolved (no interval") and "at 48 ep, n 1 of 3" in long
    assert "baseline train − test 26.8 (overfits)" in long
    # the counts use the decayed pair (marked above), not the unfinished long series
    assert "†" not in long
    mixup = next(line for line in text.splitlines() if line.startswith("| mixup |"))
    m_short, m_long = mixup.split(" | ")[2:4]
    assert "at 3 ep, n 6" in m_short and "†" not in m_short
    assert m_long.startswith("**smaller than claimed** †: -0.10")
    # its long cell reads the article series: the planned long series is named beside it
    assert "(article series; the 15-ep long series: n 0 of 3)" in m_long
    assert "smaller than claimed: it holds 0 but excludes the article's number" in text


def test_a_notebooks_answer_gives_each_claim_at_its_decisive_row_and_the_others_statuses():
    t = pd.DataFrame([
        _ledger_row("bc.0-1", "decayed", 4, -2.0, -2.7, -1.3, 6, 6, Status.CONTRADICTED, 2.1),
        _ledger_row("bc.0-1", "long", 48, 1.2, math.nan, math.nan, 1, 3, Status.UNRESOLVED, 26.8)])
    line = claims.answer(t)
    assert line.startswith("- **a claim** (article: ")
    assert "ours -2.00 [-2.70, -1.30] points (95 % CI; decayed series, 4 epochs, n = 6)" in line
    assert "**contradicted**" in line and "Also long series at 48 epochs: unresolved" in line
    # a row without an interval: dashes in the interval, n of those planned
    alone = claims.answer(t.iloc[1:])
    assert "ours +1.20 points (no interval; long series, 48 epochs, n = 1 of 3)" in alone


def test_every_status_in_the_committed_ledger_follows_from_its_numbers():
    path = REPO / "results" / "budget" / "claims.csv"
    if not path.exists():
        pytest.skip("no committed ledger")
    t = pd.read_csv(path)
    assert set(t["article"]) == {"bc_learning", "resnet_ablation", "natural_artificial_loss",
                                 "mixup_baseline", "training_tricks"}
    keys = {c.key for c in claims.claims()}
    assert keys <= set(t["key"])                      # a row for every claim
    direction = {c.key: c.direction for c in claims.claims()}
    for r in t.itertuples():
        effect = None if pd.isna(r.article_effect) else r.article_effect
        untestable = r.note if r.status == Status.NOT_TESTABLE else None
        d = direction.get(r.key, +1)
        assert status(r.ci95_low, r.ci95_high, d, effect, untestable) == r.status, r
        assert r.status_text == claims.status_text(r._asdict()), r


def _hist(gain_at, epochs=12, seeds=3):
    rows = []
    for seed in range(seeds):
        for e in range(1, epochs + 1):
            base = 0.5 + 0.02 * e + 0.01 * seed + 0.005 * (-1) ** e   # a jumpy endpoint
            for arm, acc in ((0, base), (1, base + gain_at(e) + 0.001 * seed)):
                rows.append({"arm": arm, "seed": seed, "epoch": e, "test_accuracy": acc,
                             "accuracy": acc + 0.015 * e})
    return pd.DataFrame(rows)


def test_effect_by_epoch_reads_the_windowed_paired_gain_and_the_baselines_gap():
    gain = lambda e: -0.01 if e < 6 else 0.02   # noqa: E731  (turns positive late)
    t = length_effect.by_epoch(_hist(gain), "arm", 0, 1)
    assert t["epochs"].tolist() == list(range(1, 13)) and list(t.columns) == list(
        length_effect.COLUMNS)
    # at epoch 10 the window is epochs 8..12 (10 / 1.25 .. 10 * 1.25): its paired mean
    assert t.loc[9, "ours"] == pytest.approx(0.02 + 0.001, abs=1e-9)
    assert t.loc[0, "final_epoch_ours"] == pytest.approx(-0.01 + 0.001)
    # the paired t behind each interval: its standard error and degrees of freedom
    half = (t["ci95_high"] - t["ci95_low"]) / 2
    assert (half / t["se"]).to_numpy() == pytest.approx(scipy.stats.t.ppf(0.975, t["df"]))
    assert set(t["df"]) == {t.loc[0, "n_pairs"] - 1}
    assert t.loc[11, "baseline_train_test_gap"] == pytest.approx(0.015 * 12)
    assert length_effect.overfit_epoch(t) == 7                       # 0.015 * 7 >= 0.10
    assert length_effect.crossings(t)[0] in (5, 6, 7)
    assert length_effect.report_lengths(48, 4) == [1, 2, 4, 8, 16, 32, 48]
    assert length_effect.report_lengths(30, 3) == [1, 2, 3, 4, 8, 16, 30]


def test_effect_by_epoch_pairs_only_the_seeds_both_arms_finished():
    h = _hist(lambda e: 0.02, seeds=3)
    # seed 2's second arm not finished yet: two pairs, the baseline over their seeds only
    t = length_effect.by_epoch(h[~((h["arm"] == 1) & (h["seed"] == 2))], "arm", 0, 1)
    assert (t["n_pairs"] == 2).all() and t["ci95_low"].notna().all()
    assert t.loc[0, "final_epoch_ours"] == pytest.approx(0.02 + 0.0005)
    assert t.loc[0, "baseline_test_accuracy"] == pytest.approx(0.5 + 0.02 - 0.005 + 0.005)
    one = length_effect.by_epoch(h[(h["seed"] == 0) | ((h["seed"] == 1) & (h["arm"] == 0))],
                                 "arm", 0, 1)
    assert (one["n_pairs"] == 1).all() and one["ci95_low"].isna().all()   # one pair: no interval
    assert length_effect.by_epoch(h[(h["arm"] == 0) | (h["seed"] == 9)], "arm", 0, 1).empty


def test_window_mean_is_the_ratio_window_cut_at_the_run():
    e, v = np.arange(1, 11), np.arange(1, 11, dtype=float)
    assert stats.window_mean(e, v, 1) == 1.0                     # 0.8 .. 1.25
    assert stats.window_mean(e, v, 8) == pytest.approx(np.mean([7, 8, 9, 10]))   # 6.4 .. 10
    assert stats.window_mean(e, v, 10) == pytest.approx(np.mean([8, 9, 10]))     # cut at 10


def test_length_effect_tables_and_figures_for_the_headline_claims(tmp_path, monkeypatch):
    """A headline claim with finished long runs gets its table at the reported
    lengths and its figure, with the decayed pair's gain taken from the ledger."""
    from lib.campaign import compute
    monkeypatch.setenv("ABLATION_RESULTS_DIR", str(tmp_path))
    hist = _hist(lambda e: 0.01, epochs=12).rename(columns={"arm": "case"})
    long = hist.groupby(["case", "seed"], as_index=False)["epoch"].max().assign(
        series="long", epochs=12)
    monkeypatch.setattr(compute, "ensure_all", lambda nb, profile, **kw: (
        long if nb == "bc_learning" else pd.DataFrame()))
    monkeypatch.setattr(compute, "load_histories", lambda table, profile: hist)
    ledger = pd.DataFrame([{"key": "bc.0-1", "series": "decayed", "ours": 1.5, "ci95_low": 0.5,
                            "ci95_high": 2.5, "n": 6, "epochs": 4}])
    figs = claims.write_length_effects("budget", ledger, log=lambda s: None)
    assert [f.name for f in figs] == ["length_effect_0-1.png"] and figs[0].stat().st_size > 0
    t = pd.read_csv(tmp_path / "budget" / "tables" / "bc_learning_length_effect_0-1.csv")
    assert t["epochs"].tolist() == [1, 2, 4, 8, 12]          # 1, 2, 4, 8, the end, and 4
    assert t["ours"].to_numpy() == pytest.approx(0.011, abs=1e-9)


def test_latency_ratio_reads_how_much_slower_with_a_bootstrap_interval():
    rng = np.random.default_rng(1)
    calls = pd.concat([
        pd.DataFrame({"model": "small", "seconds": 0.002 * (1 + 0.05 * rng.standard_normal(500))}),
        pd.DataFrame({"model": "big", "seconds": 0.003 * (1 + 0.05 * rng.standard_normal(500))})])
    r = claims.latency_ratio(calls, "small", "big")
    assert r["diff"] == pytest.approx(0.5, abs=0.02)          # 3 ms against 2 ms: 50 % slower
    assert r["ci_low"] < r["diff"] < r["ci_high"] and r["ci_low"] > 0.45 and r["ci_high"] < 0.55
    assert (r["n_a"], r["n_b"]) == (500, 500)
    same = claims.latency_ratio(calls.assign(model="small").iloc[:500].pipe(
        lambda c: pd.concat([c, c.assign(model="big")])), "small", "big")
    assert same["ci_low"] < 0 < same["ci_high"]               # the same calls: no difference


def test_the_length_effect_figure_marks_where_the_baseline_overfits_or_says_it_never_did():
    import matplotlib.pyplot as plt

    t = length_effect.by_epoch(_hist(lambda e: 0.02), "arm", 0, 1)   # gap 0.015·e: 10 at 7
    fig = length_effect.figure(t, article=(20, 0.02), baseline="arm 0")
    top, bottom = fig.axes
    legend = [x.get_text() for x in top.get_legend().get_texts()]
    assert "arm 0 reaches the overfitting line (epoch 7)" in legend
    assert any(x.get_text() == "crossed at epoch 7" for x in bottom.texts)
    plt.close(fig)
    calm = length_effect.figure(t.assign(baseline_train_test_gap=0.02), baseline="arm 0")
    top, bottom = calm.axes
    assert not any("overfitting line" in x.get_text() for x in top.get_legend().get_texts())
    assert [x.get_text() for x in bottom.texts] == ["not reached (at most 2.0 points)"]
    assert bottom.get_ylim()[1] >= 12.5          # the 10-point line drawn inside the panel
    plt.close(calm)


def test_n_says_pairs_of_those_planned_or_each_arms_runs_when_unpaired():
    from types import SimpleNamespace as Row
    assert claims._n_cell(Row(n=1, n_planned=3)) == "1 of 3"
    assert claims._n_cell(Row(n=6, n_planned=6.0)) == "6"
    assert claims._n_cell(Row(n=3, n_planned=math.nan)) == "3"
    assert claims._n_cell(Row(n="6/1", n_planned=math.nan)) == "6 vs 1 runs (unpaired)"
    # as read back from claims.csv: counts as text or floats
    assert claims._n_cell(Row(n="1", n_planned=3.0)) == "1 of 3"
    assert claims._n_cell(Row(n=6.0, n_planned=6.0)) == "6"
    assert claims._n_cell(Row(n="500 vs 500 calls", n_planned=math.nan)) == "500 vs 500 calls"


def test_a_headline_row_names_the_counted_measurement_when_neither_cell_shows_it():
    # the decayed pair has no interval, the long series none yet: the article row decides
    t = pd.DataFrame([
        _ledger_row("bc.0-1", "article", 4, -0.2, -2.4, 2.1, 6, math.nan, Status.UNRESOLVED),
        _ledger_row("bc.0-1", "decayed", 4, -2.0, math.nan, math.nan, 1, 6, Status.UNRESOLVED),
        _ledger_row("bc.0-1", "long", 48, math.nan, math.nan, math.nan, 0, 3, Status.UNRESOLVED)])
    line = next(x for x in claims.headline_markdown(t).splitlines() if x.startswith("| a claim"))
    assert "†" not in line
    assert line.endswith("(counted: article series at 4 ep, unresolved (could detect ≥ 1.0 "
                         "points)) |")
    assert claims._and([2]) == "2" and claims._and([2, 13, 21]) == "2, 13 and 21"


def test_the_length_effect_frame_fits_the_gains_and_cuts_a_band_wider_than_them():
    import matplotlib.pyplot as plt

    h = _hist(lambda e: 0.02, seeds=2)
    h.loc[(h["arm"] == 1) & (h["seed"] == 1), "test_accuracy"] += 0.3   # two pairs far apart
    t = length_effect.by_epoch(h, "arm", 0, 1)
    fig = length_effect.figure(t, decayed={"epochs": 3, "ours": 0.05, "ci95_low": 0.04,
                                           "ci95_high": 0.06, "n_pairs": 6})
    top = fig.axes[0]
    low, high = top.get_ylim()
    gains = 100 * pd.concat([t["ours"], t["final_epoch_ours"]])
    assert low < 0 < high and low < gains.min() and gains.max() < high
    assert 100 * t["ci95_high"].max() > high                  # the band runs past the frame...
    assert any("wider than the frame" in x.get_text() for x in top.get_legend().get_texts())
    plt.close(fig)
    # ...and a band inside it is drawn whole, its legend plain
    calm = length_effect.figure(length_effect.by_epoch(_hist(lambda e: 0.02), "arm", 0, 1))
    assert not any("wider" in x.get_text() for x in calm.axes[0].get_legend().get_texts())
    plt.close(calm)


def test_the_natural_articles_claims_read_as_in_its_notebook():
    from lib.campaign.experiments.natural_artificial_loss import CLAIMS
    texts = {c.text for c in claims.claims() if c.notebook == "natural_artificial_loss"}
    assert texts == set(CLAIMS.values()) - {CLAIMS["stably_above_90"]}
    path = REPO / "results" / "budget" / "claims.csv"
    if path.exists():   # the level claim's row too
        t = pd.read_csv(path)
        assert set(t.loc[t["article"] == "natural_artificial_loss", "claim"]) == set(CLAIMS.values())


def _counted(article, key, status_, ours, se, df=1000, effect=math.nan, **more):
    row = {"article": article, "key": key, "claim": f"claim {key}", "series": "decayed",
           "epochs": 3, "ours": ours, "ci95_low": ours - 2 * se, "ci95_high": ours + 2 * se,
           "n": 6, "n_planned": 6, "se": se, "df": df, "article_effect": effect,
           "status": status_, "confounded": False, **more}
    return {**row, "status_text": claims.status_text(row)}


def test_holm_check_adjusts_each_articles_counted_measurements_together():
    t = pd.DataFrame([
        _counted("A", "a1", Status.SUPPORTED, 2.5, 1.0),      # p 0.012: x3 = 0.037, holds
        _counted("A", "a2", Status.SUPPORTED, 2.1, 1.0),      # p 0.036: x2 = 0.072, fails
        _counted("A", "a3", Status.UNRESOLVED, 0.5, 1.0),     # in the family, not decided
        # a2 measured again, not counted (the decayed series outranks the article's):
        # p < 0.05 / 3, so it holds even at the family's strictest level
        _counted("A", "a2", Status.SUPPORTED, 5.0, 1.0, series="article"),
        # "smaller than claimed" is tested against the article's number: 0 vs 3, p 0.003
        _counted("B", "b1", Status.SMALLER, 0.0, 1.0, effect=3.0),
        # decided without a t interval (a bootstrap one): named, not adjusted
        _counted("B", "b2", Status.SUPPORTED, 1.0, math.nan, confounded=True),
        # a contradicted count alone in its family: p 0.007 holds
        _counted("C", "c1", Status.CONTRADICTED, -2.7, 1.0)])
    h = claims.holm_check(t)
    assert h["key"].tolist() == ["a1", "a2", "a3", "b1", "c1"]
    p = 2 * scipy.stats.t.sf([2.5, 2.1, 0.5, 3.0, 2.7], 1000)
    assert h["p"].tolist() == pytest.approx(p)
    assert h["p_holm"].tolist() == pytest.approx([3 * p[0], 2 * p[1], p[2], p[3], p[4]])
    assert h["family"].tolist() == [3, 3, 3, 1, 1]
    s = claims.holm_sentence(t)
    assert "1 of the 4 decided counts would no longer be decided: A: claim a2 (supported at " \
           "the decayed series, 3 ep; p 0.036, Holm 0.072; its article series, 3 ep, n 6, " \
           "holds (not the counted measurement): p < 0.001)." in s
    assert s.endswith(" Not adjusted (no t interval): claim b2 (supported (confounded)).")
    # the CSV's plain strings read as the enum does
    assert claims.holm_sentence(t.assign(status=t["status"].astype(str))) == s
    # where every decided count survives, the sentence says so
    assert "every one of the 3 decided counts holds." in claims.holm_sentence(t[t["key"] != "a2"])
    assert "no count with a t interval is decided" in claims.holm_sentence(
        t[t["key"].isin(["a3"])])


def test_holm_names_a_failing_contradiction_and_what_is_tested_against_the_article():
    t = pd.DataFrame([
        _counted("A", "a1", Status.CONTRADICTED, -2.2, 1.0),   # p 0.028: x2 = 0.056, fails
        _counted("A", "a2", Status.SMALLER, 1.0, 1.0, effect=3.2),   # vs 3.2: p 0.028
        # measured again with another status, or with pairs still to train: neither holds
        # "elsewhere", however small its p
        _counted("A", "a1", Status.SUPPORTED, 9.0, 1.0, series="article"),
        _counted("A", "a1", Status.CONTRADICTED, -9.0, 1.0, series="long", epochs=30, n=2,
                 n_planned=3)])
    s = claims.holm_sentence(t)
    assert "2 of the 2 decided counts would no longer be decided: A: claim a1 (contradicted " \
           "at the decayed series, 3 ep; p 0.028, Holm 0.056), claim a2 (smaller than claimed " \
           "at the decayed series, 3 ep; p 0.028 against the article's +3.20, Holm 0.056)." in s

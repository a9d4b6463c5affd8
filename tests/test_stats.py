"""lib.stats on inputs whose answers are worked out by hand (or from the
t distribution's quantiles directly)."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from lib.analysis import stats

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free

T975_2 = 4.302652729911275   # t_{0.975} with 2 degrees of freedom
T80_2 = 1.060660171779821    # t_{0.80} with 2 degrees of freedom


def _arms(a, b, seeds_a=None, seeds_b=None, by="arm", metric="acc"):
    seeds_a = range(len(a)) if seeds_a is None else seeds_a
    seeds_b = range(len(b)) if seeds_b is None else seeds_b
    return pd.DataFrame({by: ["a"] * len(a) + ["b"] * len(b), "seed": [*seeds_a, *seeds_b],
                         metric: [*a, *b]})


def test_t_quantiles_used_below():
    assert sps.t.ppf(0.975, 2) == pytest.approx(T975_2)
    assert sps.t.ppf(0.80, 2) == pytest.approx(T80_2)


def test_paired_by_seed_hand_computed():
    # per-seed differences 0.02, 0.03, 0.025: mean 0.025, sd 0.005, se 0.005/√3, df 2
    t = _arms([0.50, 0.60, 0.70], [0.52, 0.63, 0.725])
    r = stats.compare(t, "arm", "a", "b", "acc")
    se = 0.005 / math.sqrt(3)
    assert r["test"] == stats.Test.PAIRED and r["n_pairs"] == 3 and r["n_a"] == r["n_b"] == 3
    assert r["diff"] == pytest.approx(0.025)
    assert r["sd_diff"] == pytest.approx(0.005)
    assert r["se"] == pytest.approx(se)
    assert r["ci_low"] == pytest.approx(0.025 - T975_2 * se)
    assert r["ci_high"] == pytest.approx(0.025 + T975_2 * se)
    assert r["p"] == pytest.approx(2 * sps.t.sf(0.025 / se, 2))
    assert r["mde"] == pytest.approx((T975_2 + T80_2) * se)
    assert r["ci_low"] > 0 and stats.verdict(r) == stats.Verdict.HELPS


def test_pairing_aligns_rows_by_seed_not_by_order():
    t = _arms([0.50, 0.60, 0.70], [0.725, 0.52, 0.63], seeds_b=[2, 0, 1])
    r = stats.compare(t, "arm", "a", "b", "acc")
    assert r["test"] == stats.Test.PAIRED and r["sd_diff"] == pytest.approx(0.005)


def test_welch_when_seeds_differ_or_pairing_is_off():
    a, b = [0.50, 0.60, 0.70], [0.52, 0.63, 0.725]
    va, vb = np.var(a, ddof=1) / 3, np.var(b, ddof=1) / 3
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2)
    for r in (stats.compare(_arms(a, b, seeds_b=[3, 4, 5]), "arm", "a", "b", "acc"),
              stats.compare(_arms(a, b), "arm", "a", "b", "acc", pair_on=None),
              stats.compare(_arms(a, b, seeds_b=[0, 1, 1]), "arm", "a", "b", "acc")):
        assert r["test"] == stats.Test.WELCH and r["n_pairs"] == 0 and math.isnan(r["sd_diff"])
        assert r["diff"] == pytest.approx(0.025)
        assert r["se"] == pytest.approx(se)
        assert r["df"] == pytest.approx(df)
        q = sps.t.ppf(0.975, df)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.025 - q * se, 0.025 + q * se))
        assert r["mde"] == pytest.approx((q + sps.t.ppf(0.8, df)) * se)
        # the seed-to-seed spread is not removed: far too wide for a verdict
        assert r["ci_low"] < 0 < r["ci_high"]
        assert stats.verdict(r) == stats.Verdict.INCONCLUSIVE


def test_an_arm_with_extra_seeds_is_paired_on_the_shared_ones():
    # a ran seeds 0..5, b only 2, 0, 1 (listed out of order): paired on seeds 0, 1, 2
    a = [0.50, 0.60, 0.70, 0.10, 0.95, 0.30]
    b = [0.74, 0.51, 0.63]            # seeds 2, 0, 1: differences +0.01, +0.03, +0.04
    r = stats.compare(_arms(a, b, seeds_b=[2, 0, 1]), "arm", "a", "b", "acc")
    assert r["test"] == stats.Test.PAIRED and r["n_pairs"] == 3 and (r["n_a"], r["n_b"]) == (6, 3)
    assert r["diff"] == pytest.approx(np.mean([0.01, 0.03, 0.04]))
    assert r["sd_diff"] == pytest.approx(np.std([0.01, 0.03, 0.04], ddof=1))
    assert r["df"] == 2
    # one shared seed is no pairing: Welch over all runs
    w = stats.compare(_arms(a, b, seeds_b=[0, 7, 8]), "arm", "a", "b", "acc")
    assert w["test"] == stats.Test.WELCH and w["n_pairs"] == 0


def test_welch_equal_variances_two_runs_each():
    # a = 0.1, 0.2; b = 0.5, 0.6: se = √(0.005/2 + 0.005/2) = √0.005, Welch df = 2
    t = _arms([0.1, 0.2], [0.5, 0.6], seeds_b=[5, 6])
    r = stats.compare(t, "arm", "a", "b", "acc")
    assert r["test"] == stats.Test.WELCH and r["df"] == pytest.approx(2.0)
    assert r["se"] == pytest.approx(math.sqrt(0.005))
    assert r["ci_low"] == pytest.approx(0.4 - T975_2 * math.sqrt(0.005))


def test_one_run_on_a_side_gives_no_verdict():
    r = stats.compare(_arms([0.5], [0.6, 0.7], seeds_b=[0, 1]), "arm", "a", "b", "acc")
    assert r["test"] == "none" and r["diff"] == pytest.approx(0.15)
    assert math.isnan(r["ci_low"]) and math.isnan(r["p"]) and math.isnan(r["mde"])
    assert stats.verdict(r) == stats.Verdict.NO_VERDICT
    one_pair = stats.compare(_arms([0.5], [0.6]), "arm", "a", "b", "acc")
    assert one_pair["n_pairs"] == 1 and stats.verdict(one_pair) == stats.Verdict.NO_VERDICT
    with pytest.raises(ValueError, match="no runs"):
        stats.compare(_arms([0.5], [0.6]), "arm", "a", "c", "acc")


def test_verdict_hurts_and_direction():
    t = _arms([0.52, 0.63, 0.725], [0.50, 0.60, 0.70])
    r = stats.compare(t, "arm", "a", "b", "acc")
    assert r["diff"] == pytest.approx(-0.025) and stats.verdict(r) == stats.Verdict.HURTS
    assert stats.verdict(r, higher_is_better=False) == stats.Verdict.HELPS   # e.g. a loss
    # a family's adjusted p overrides the comparison's own
    assert stats.verdict(r, p=0.2) == stats.Verdict.INCONCLUSIVE
    assert stats.verdict(r, p=float("nan")) == stats.Verdict.NO_VERDICT


def test_mde_shrinks_with_n_and_grows_with_spread():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=40)

    def mde(n, sd):
        d = noise[:n] * sd
        return stats.compare(_arms(np.zeros(n), d), "arm", "a", "b", "acc")["mde"]

    assert mde(3, 0.01) > mde(6, 0.01) > mde(20, 0.01)
    assert mde(5, 0.02) == pytest.approx(2 * mde(5, 0.01))
    # n = 3 vs 12 at the same per-seed spread: (t-quantile sum) / √n, computed directly
    d3, d12 = np.array([1.0, -1.0, 0.0]) * 0.01, np.tile([1.0, -1.0, 0.0], 4) * 0.01
    m3 = stats.compare(_arms(np.zeros(3), d3), "arm", "a", "b", "acc")["mde"]
    m12 = stats.compare(_arms(np.zeros(12), d12), "arm", "a", "b", "acc")["mde"]
    assert m3 == pytest.approx((T975_2 + T80_2) * 0.01 / math.sqrt(3))
    sd12 = np.std(d12, ddof=1)
    assert m12 == pytest.approx((sps.t.ppf(0.975, 11) + sps.t.ppf(0.8, 11)) * sd12 / math.sqrt(12))


def test_holm_known_example():
    # sorted 0.005, 0.01, 0.03, 0.04 -> ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    adj = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adj == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adj = stats.holm([float("nan"), 0.01, 0.04, 0.6])   # nan is not part of the family (m = 3)
    assert math.isnan(adj[0]) and adj[1:] == pytest.approx([0.03, 0.08, 0.6])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def _family():
    # paired differences against arm 0: arm 1 +0.025 with sd 0.005 (t = 8.66, p = 0.013);
    # arm 2 +0.02, sd 0.01 (t = 3.46, p = 0.074); arm 4 +0.03, sd 0.01 (t = 5.20, p = 0.035);
    # arm 3 has one seed
    base = [0.50, 0.60, 0.70]
    rows = []
    for arm, vals in ((0, base), (1, [0.52, 0.63, 0.725]), (2, [0.51, 0.63, 0.72]),
                      (4, [0.54, 0.62, 0.73])):
        rows += [{"case": arm, "seed": s, "final_test_accuracy": v} for s, v in enumerate(vals)]
    rows.append({"case": 3, "seed": 0, "final_test_accuracy": 0.9})
    return pd.DataFrame(rows)


def test_compare_many_holm_family_and_columns():
    pairs = [(0, 1, "one"), (0, 2, "two"), (0, 3, "single"), (0, 4, "four"), (0, 9, "absent")]
    ch = stats.compare_many(_family(), "case", pairs, article={0: 0.5, 1: 0.7, 2: None})
    assert list(ch.columns) == list(stats.COMPARE_COLUMNS)
    assert ch["change"].tolist() == ["one", "two", "single", "four"]   # absent arm skipped
    assert ch["test"].tolist() == [stats.Test.PAIRED, stats.Test.PAIRED, stats.Test.NONE,
                                   stats.Test.PAIRED]
    p = ch["p"].to_numpy()
    assert p[0] < 0.05 and p[1] > 0.05 and math.isnan(p[2]) and p[3] < 0.05
    assert ch["p_holm"].to_numpy() == pytest.approx(stats.holm(p), nan_ok=True)
    assert ch["p_holm"].iloc[0] == pytest.approx(3 * p[0])   # smallest of a family of 3
    assert ch["p_holm"].iloc[3] == pytest.approx(2 * p[3])
    assert p == pytest.approx([2 * sps.t.sf(0.025 / (0.005 / math.sqrt(3)), 2),
                               2 * sps.t.sf(0.02 / (0.01 / math.sqrt(3)), 2), float("nan"),
                               2 * sps.t.sf(0.03 / (0.01 / math.sqrt(3)), 2)], nan_ok=True)
    # the verdict follows the unadjusted interval; Holm's p and detectable effect stand beside
    verdicts = ch["verdict"].tolist()
    assert verdicts == [stats.Verdict.HELPS, stats.Verdict.INCONCLUSIVE, stats.Verdict.NO_VERDICT,
                        stats.Verdict.HELPS]
    assert ch["p_holm"].iloc[3] > 0.05        # arm 4: p = 0.035 alone, 0.07 after Holm
    for i in (0, 1, 3):   # one interval and one detectable effect: those of the verdict
        lo, hi = ch["ci95_low"].iloc[i], ch["ci95_high"].iloc[i]
        assert (lo > 0 or hi < 0) == (verdicts[i] in (stats.Verdict.HELPS, stats.Verdict.HURTS))
        r = stats.compare(_family(), "case", 0, ch["to"].iloc[i])
        assert ch["mde"].iloc[i] == pytest.approx(r["mde"])
        assert ch["mde_holm"].iloc[i] == pytest.approx(stats.min_detectable(r["se"], r["df"], 0.05 / 3))
        assert ch["mde_holm"].iloc[i] > ch["mde"].iloc[i]
    assert stats.verdict_text(ch.iloc[1]) == \
        f"inconclusive (could detect ≥ {100 * ch['mde'].iloc[1]:.1f} points)"
    assert stats.verdict_text(ch.iloc[2]) == "no verdict (n < 2 per arm)"
    assert ch["article"].iloc[0] == pytest.approx(0.2) and math.isnan(ch["article"].iloc[1])
    assert ch["from"].iloc[0] == 0 and ch["to"].iloc[0] == 1 and ch["n_pairs"].iloc[0] == 3


def test_compare_many_holm_family_is_the_rows_of_the_call():
    # p ≈ 0.013 alone; in a family of 5 comparisons Holm makes it 0.065, stated beside
    t = _family()
    r = stats.compare(t, "case", 0, 1)
    assert r["p"] < 0.05 and stats.verdict(r) == stats.Verdict.HELPS
    ch = stats.compare_many(t, "case", [(0, 1, "x")] + [(0, 2, f"y{i}") for i in range(4)])
    assert ch["p_holm"].iloc[0] == pytest.approx(min(1, 5 * r["p"]))
    assert ch["verdict"].iloc[0] == stats.Verdict.HELPS
    assert ch["mde_holm"].iloc[0] == pytest.approx(stats.min_detectable(r["se"], r["df"], 0.01))


def test_summarize():
    t = pd.DataFrame({"case": [0, 0, 1, 1, 2, 2, 3],
                      "final_test_accuracy": [0.1, 0.2, 0.5, 0.6, 0.15, 0.16, 0.9]})
    s = stats.summarize(t, "case", metrics=("final_test_accuracy",), article={0: 0.2})
    assert s["n_seeds"].tolist() == [2, 2, 2, 1]
    assert s["final_test_accuracy_mean"].iloc[0] == pytest.approx(0.15)
    assert s["final_test_accuracy_std"].iloc[0] == pytest.approx(math.sqrt(0.005))
    assert math.isnan(s["final_test_accuracy_std"].iloc[3])
    assert s["gap_to_article"].iloc[0] == pytest.approx(-0.05) and math.isnan(s["article"].iloc[1])


def test_describe_orders_groups():
    d = stats.describe(pd.DataFrame({"g": ["a", "a", "b"], "v": [1.0, 3.0, 5.0]}), "g", "v", ["b", "a"])
    assert d["g"].tolist() == ["b", "a"] and d["mean"].tolist() == [5.0, 2.0] and d["n"].tolist() == [1, 2]
    assert d["std"].iloc[1] == pytest.approx(math.sqrt(2))


def test_change_text():
    ch = stats.compare_many(_family(), "case", [(0, 1, "one"), (0, 3, "single")])
    assert stats.change_text(ch.iloc[0]) == (
        f"**helps**: +2.50 points (95 % CI {100 * ch['ci95_low'].iloc[0]:+.2f} to "
        f"{100 * ch['ci95_high'].iloc[0]:+.2f}; paired t, n = 3/3)")
    assert stats.change_text(ch.iloc[1]) == "**no verdict (n < 2 per arm)**: +30.00 points (n = 3/1)"
    extra = pd.DataFrame({"arm": ["a"] * 4 + ["b"] * 2, "seed": [0, 1, 2, 3, 0, 1],
                          "acc": [0.5, 0.6, 0.7, 0.8, 0.52, 0.63]})
    row = stats.compare_many(extra, "arm", [("a", "b", "extra")], metric="acc").iloc[0]
    assert stats.change_text(row).endswith("paired t, n = 4/2, 2 pairs)")


def test_no_spread_at_all_gives_no_verdict():
    # runs stuck at chance: identical in both arms, so every per-seed difference is 0
    r = stats.compare(_arms([0.1, 0.1, 0.1], [0.1, 0.1, 0.1]), "arm", "a", "b", "acc")
    assert r["test"] == stats.Test.PAIRED and r["se"] == 0 and r["ci_low"] == r["ci_high"] == 0
    assert math.isnan(r["p"]) and math.isnan(r["mde"])
    assert stats.verdict(r) == stats.Verdict.NO_SPREAD
    w = stats.compare(_arms([0.1, 0.1], [0.1, 0.1], seeds_b=[5, 6]), "arm", "a", "b", "acc")
    assert w["test"] == stats.Test.WELCH and stats.verdict(w) == stats.Verdict.NO_SPREAD


def test_compare_many_mde_at_the_family_level():
    t = _family()
    ch = stats.compare_many(t, "case", [(0, 1, "one"), (0, 2, "two"), (0, 3, "single"), (0, 4, "four")])
    r = stats.compare(t, "case", 0, 1)
    se = 0.005 / math.sqrt(3)
    assert r["mde"] == pytest.approx((T975_2 + T80_2) * se)              # alone: alpha 0.05
    assert ch["mde"].iloc[0] == pytest.approx(r["mde"])                      # the interval's level
    assert ch["mde_holm"].iloc[0] == pytest.approx((sps.t.ppf(1 - 0.05 / 6, 2) + T80_2) * se)  # m = 3
    assert ch["mde_holm"].iloc[0] > r["mde"] and math.isnan(ch["mde"].iloc[2])
    one = stats.compare_many(t, "case", [(0, 1, "one")])
    assert one["mde"].iloc[0] == pytest.approx(r["mde"])


def test_compare_by_budget_one_paired_row_per_budget():
    # budget 1.0 (4 epochs): differences 0.02, 0.03, 0.025 as in the hand-computed test;
    # budget 0.5 (2 epochs): one seed only, so no spread; arm "c" exists at 1.0 alone
    rows = [("a", s, 1.0, 4, x) for s, x in enumerate([0.50, 0.60, 0.70])]
    rows += [("b", s, 1.0, 4, x) for s, x in enumerate([0.52, 0.63, 0.725])]
    rows += [("a", 0, 0.5, 2, 0.40), ("b", 0, 0.5, 2, 0.38), ("c", 0, 1.0, 4, 0.9)]
    t = pd.DataFrame(rows, columns=["arm", "seed", "budget", "epochs", "acc"])
    out = stats.compare_by_budget(t, "arm", "a", "b", "acc")
    assert list(out.columns) == list(stats.BUDGET_COLUMNS)
    assert list(out["budget"]) == [0.5, 1.0] and list(out["epochs"]) == [2, 4]
    short, full = out.iloc[0], out.iloc[1]
    assert short["ours"] == pytest.approx(-0.02) and short["test"] == "none"
    assert short["verdict"] == stats.Verdict.NO_VERDICT and math.isnan(short["ci95_low"])
    se = 0.005 / math.sqrt(3)
    assert full["test"] == stats.Test.PAIRED and full["n_pairs"] == 3
    assert full["ours"] == pytest.approx(0.025) and full["mean_b"] == pytest.approx(0.625)
    assert full["ci95_low"] == pytest.approx(0.025 - T975_2 * se)
    assert full["verdict"] == stats.Verdict.HELPS                    # not Holm-adjusted across budgets
    assert stats.compare_by_budget(t, "arm", "a", "c", "acc")["budget"].tolist() == [1.0]


def test_compare_by_budget_rejects_arms_of_different_lengths():
    t = pd.DataFrame({"arm": ["a", "b"], "seed": [0, 0], "budget": [1.0, 1.0], "epochs": [4, 8],
                      "acc": [0.5, 0.6]})
    with pytest.raises(ValueError, match="different epochs"):
        stats.compare_by_budget(t, "arm", "a", "b", "acc")

import math

import pandas as pd
import pytest

from lib import report


def _table():
    return pd.DataFrame({"case": [0, 0, 1, 1, 2, 2, 3],
                         "final_test_accuracy": [0.1, 0.2, 0.5, 0.6, 0.15, 0.16, 0.9]})


def test_difference_uses_welch_t_interval():
    d = report.difference(_table(), "case", 0, 1)
    assert d["diff"] == pytest.approx(0.4)
    assert d["se"] == pytest.approx(math.sqrt(0.005))
    # equal variances, n = 2 each: Welch df = 2, t_0.975(2) = 4.303
    assert d["ci_low"] == pytest.approx(0.4 - 4.3027 * math.sqrt(0.005), abs=1e-4)
    one = report.difference(_table(), "case", 0, 3)
    assert one["diff"] == pytest.approx(0.75) and math.isnan(one["se"])


def test_changes_verdicts():
    ch = report.changes(_table(), "case", [(0, 1, "big"), (0, 2, "small"), (1, 3, "single")],
                        article={0: 0.5, 1: 0.7, 2: None})
    assert ch["verdict"].tolist() == ["helps", "within noise", "one seed: no verdict"]
    assert ch["article"].iloc[0] == pytest.approx(0.2) and math.isnan(ch["article"].iloc[1])


def test_summarize_and_markdown():
    s = report.summarize(_table(), "case", metrics=("final_test_accuracy",), article={0: 0.2})
    assert s["n_seeds"].tolist() == [2, 2, 2, 1]
    assert s["final_test_accuracy_mean"].iloc[0] == pytest.approx(0.15)
    assert s["gap_to_article"].iloc[0] == pytest.approx(-0.05)
    md = report.to_markdown(s)
    assert md.splitlines()[0].startswith("| case | n_seeds |") and "–" in md

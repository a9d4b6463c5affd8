"""Every figure of lib.plots draws on small synthetic data (Agg backend)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lib.analysis import plots, stats  # noqa: E402

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _hist(keys=(0, 1, 2), seeds=(0, 1), epochs=4):
    rng = np.random.default_rng(0)
    rows = [{"case": k, "seed": s, "epoch": e, "accuracy": 0.1 * e + rng.uniform(0, 0.05),
             "test_accuracy": 0.1 * e, "loss": 2.0 / e, "test_loss": 2.1 / e, "lr": 1e-3 / e}
            for k in keys for s in seeds for e in range(1, epochs + 1)]
    return pd.DataFrame(rows)


def _table(keys=(0, 1, 2), seeds=(0, 1, 2)):
    return pd.DataFrame([{"case": k, "seed": s, "final_test_accuracy": 0.5 + 0.02 * k + 0.01 * s}
                         for k in keys for s in seeds])


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.axison]


def test_learning_curves_accuracy_and_loss_one_column_per_key():
    fig = plots.learning_curves(_hist(), "case", labels={0: "no BC", 1: "BC"})
    axes = _visible_axes(fig)
    assert len(axes) == 6                                  # 3 keys × (accuracy, loss)
    assert all(len(ax.lines) == 2 for ax in axes)          # train and test
    assert axes[0].get_title() == "0 no BC (n=2)"
    assert {ax.get_ylabel() for ax in axes} == {"accuracy", "loss"}


def test_learning_curves_error_wraps_panels():
    fig = plots.learning_curves(_hist(keys=range(6)), "case", error=True, col_wrap=4)
    assert len(fig.axes) == 8 and len(_visible_axes(fig)) == 6   # 2 rows of 4, 2 empty
    ax = _visible_axes(fig)[0]
    assert ax.get_ylabel() == "error"
    # error = 1 − accuracy, mean over seeds: test accuracy 0.1·epoch
    assert ax.lines[1].get_ydata() == pytest.approx(1 - 0.1 * np.arange(1, 5))


def _noisy_table(keys=(0, 1, 2), seeds=(0, 1, 2)):
    rng = np.random.default_rng(1)
    return pd.DataFrame([{"case": k, "seed": s,
                          "final_test_accuracy": 0.5 + 0.02 * k + 0.01 * s + rng.normal(0, 0.004)}
                         for k in keys for s in seeds])


def test_levels_vs_article_fits_our_runs_and_writes_the_article_off_the_axis():
    t = pd.concat([_table(), pd.DataFrame([{"case": 3, "seed": 0, "final_test_accuracy": 0.55}])],
                  ignore_index=True)
    s = stats.summarize(t, "case", metrics=("final_test_accuracy",),
                        article={0: 0.9, 1: 0.92, 2: 0.545})
    fig = plots.levels_vs_article(s, t, "case", {0: "none", 1: "BC", 2: "BC+"},
                                  notes={3: "8× the images"})
    ax = fig.axes[0]
    assert not ax.patches                                   # levels, not bars from 0
    assert len([l for l in ax.lines if l.get_marker() == "."]) == 4     # seed dots per case
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert "article (one run); off this axis: its value at the edge" in legend
    # the axis fits our runs (0.50-0.56), not the article's 0.9: no stretching
    lo, hi = ax.get_ylim()
    assert lo > 0.4 and hi < 0.7
    # the article's 0.545 falls on the axis: marked over its own bar ...
    article = [l for l in ax.lines if l.get_marker() == "_" and l.get_color() == "C3"]
    assert len(article) == 1 and list(article[0].get_xdata()) == [2]
    assert list(article[0].get_ydata()) == pytest.approx([0.545])
    # ... the ones off it are written at the edge, with their value
    texts = [a.get_text() for a in ax.texts]
    assert "article\n0.900 ↑" in texts and "article\n0.920 ↑" in texts
    # the one-seed arm is hollow, and its note sits inside the figure
    hollow = [l for l in ax.lines if l.get_markerfacecolor() == "white" and len(l.get_xdata())]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [3]
    assert "one seed only: no spread" in legend and "8× the images" in texts
    assert [x.get_text() for x in ax.get_xticklabels()][0] == "0 none\nn=3"


def test_levels_vs_article_marks_article_levels_on_the_axis():
    t = _noisy_table()
    s = stats.summarize(t, "case", metrics=("final_test_accuracy",), article={0: 0.51, 1: 0.53})
    ax = plots.levels_vs_article(s, t, "case").axes[0]
    article = [l for l in ax.lines if l.get_marker() == "_" and l.get_color() == "C3"]
    assert list(article[0].get_ydata()) == pytest.approx([0.51, 0.53])
    assert not ax.texts
    assert "article (one run)" in [x.get_text() for x in ax.get_legend().get_texts()]


def test_gains_one_interval_per_row_with_article():
    t = _noisy_table()
    ch = stats.compare_many(t, "case", [(0, 1, "one"), (0, 2, "two")], article={0: 0.5, 1: 0.6, 2: 0.55})
    fig = plots.gains(ch, title="t")
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == 2
    assert sum(len(c.lines) for c in ax.containers) >= 2    # two error bars
    article = [l for l in ax.lines if l.get_marker() == "D"]
    assert len(article) == 1 and article[0].get_xdata() == pytest.approx([10.0, 5.0])
    assert len(ax.texts) == 2                               # the verdicts


def test_gains_draw_the_decayed_pair_under_its_row_with_its_own_verdict():
    t = _noisy_table()
    ch = stats.compare_many(t, "case", [(0, 1, "one"), (0, 2, "two")])
    quiet = t.assign(final_test_accuracy=t["final_test_accuracy"] - 0.01 * t["case"])
    dec = stats.compare_many(quiet, "case", [(0, 1, "one")])
    ax = plots.gains(ch, decayed=dec).axes[0]
    squares = [l for l in ax.lines if l.get_marker() == "s" and len(l.get_xdata())]
    assert len(squares) == 1
    assert squares[0].get_xdata() == pytest.approx([100 * dec["ours"].iloc[0]])
    assert squares[0].get_ydata() == pytest.approx([1 - 0.3])   # under row "one" (y = 1)
    texts = [a.get_text().replace("\n", " ") for a in ax.texts]
    assert any(x.startswith("■ + decay (n=3/3): ") for x in texts)
    assert len(texts) == 3                                  # two verdicts, one decayed verdict


def test_gains_mark_one_seed_rows_and_confounds_inside_the_figure():
    t = pd.concat([_noisy_table(keys=(0, 1)), _noisy_table(keys=(2,), seeds=(0,))], ignore_index=True)
    ch = stats.compare_many(t, "case", [(0, 1, "one"), (1, 2, "batch")])
    ax = plots.gains(ch, notes={(1, 2): "confounded: 8× the images"}).axes[0]
    assert len(ax.containers) == 1                          # one interval: row "one"
    hollow = [l for l in ax.lines if l.get_markerfacecolor() == "white" and len(l.get_xdata())]
    assert len(hollow) == 1 and list(hollow[0].get_ydata()) == [0]   # the lower row, "batch"
    texts = [a.get_text() for a in ax.texts]
    assert "one run on a side: no interval; confounded: 8× the images" in texts
    assert "ours: no interval" in [x.get_text() for x in ax.get_legend().get_texts()]


def test_gains_draw_a_change_without_spread_hollow():
    ch = stats.compare_many(_table(), "case", [(0, 1, "one")])   # every seed +0.02: no spread
    ax = plots.gains(ch).axes[0]
    assert not ax.containers
    assert "no spread: no interval" in [a.get_text() for a in ax.texts]


def test_gains_labels_say_how_many_seeds_were_paired():
    # case 0 ran seeds 0..5, case 1 only 0..2: 3 pairs, as the prose says
    t = pd.concat([_table(keys=(0,), seeds=range(6)), _table(keys=(1,))], ignore_index=True)
    ch = stats.compare_many(t, "case", [(0, 1, "one")])
    labels = [x.get_text() for x in plots.gains(ch).axes[0].get_yticklabels()]
    assert labels == ["one\n(paired t, n=6/3, 3 pairs)"]
    assert "n = 6/3, 3 pairs" in stats.change_text(ch.iloc[0])


def test_image_grid_titles_inside():
    imgs = np.random.default_rng(0).integers(0, 255, (3, 5, 32, 32, 3), dtype=np.uint8)
    soft = np.zeros(10)
    soft[[3, 5]] = [0.7, 0.3]
    text = plots.soft_label_text(soft)
    assert text == "cat 0.70\ndog 0.30"
    titles = [["a"] * 5, None, [text] * 5]
    fig = plots.image_grid(list(imgs), titles=titles, row_labels=["x", "y", "mix"], title="grid")
    assert len(fig.axes) == 15 and len(fig.axes[0].images) == 1
    assert fig.axes[10].get_title() == text and fig.axes[5].get_title() == ""
    assert fig.axes[10].get_ylabel() == "mix"


def test_sweep_with_seeds_and_article():
    t = pd.DataFrame({"alpha": [0.0, 0.0, 0.2, 0.2, 1.0], "seed": [0, 1, 0, 1, 0],
                      "final_test_accuracy": [0.5, 0.52, 0.55, 0.56, 0.4]})
    s = stats.summarize(t, "alpha", metrics=("final_test_accuracy",))
    fig = plots.sweep(s, "alpha", t, article={0.0: 0.9, 0.2: 0.92})
    ax = fig.axes[0]
    assert len(ax.containers) == 1
    assert [x.get_text() for x in ax.get_legend().get_texts()] == [
        "one run only (n=1): no spread", "each seed",
        "article (one run); off this axis: its value at the edge", "ours: mean ± std"]
    lo, hi = ax.get_ylim()
    assert hi < 0.7                                         # not stretched to the article's 0.9
    assert [a.get_text() for a in ax.texts][3:] == ["article\n0.900 ↑", "article\n0.920 ↑"]
    hollow = [l for l in ax.lines if l.get_markerfacecolor() == "white"]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [1.0]   # alpha 1.0 has one run
    assert [a.get_text() for a in ax.texts][:3] == ["n=2", "n=2", "n=1"]


def test_gradient_check_two_panels():
    rng = np.random.default_rng(0)
    analytic = rng.normal(size=(4, 10))
    fig = plots.gradient_check(analytic, {"a": analytic, "b": analytic + 0.01, "c": 2 * analytic},
                               entropy=np.arange(4.0), value_gaps=np.arange(4.0))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3 and len(fig.axes[1].lines) == 2


def test_box_with_points_lr_curves_and_accuracy_vs_cost():
    t = _table()
    fig = plots.box_with_points(t, "case", "final_test_accuracy", [2, 0, 9], {0: "zero"},
                                ref={0.5: ("line", "C3")})
    assert [x.get_text() for x in fig.axes[0].get_xticklabels()] == ["2\nn=3", "zero\nn=3"]
    fig = plots.lr_curves(_hist(), "case", [0, 1], {0: "constant"})
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]     # a panel per key, 2 seeds each
    arch = pd.DataFrame({"model": ["a", "b"], "params": [1000, 5000], "n_seeds": [2, 2],
                         "latency_ms_median": [1.0, 2.0], "latency_ms_p10": [0.9, 1.8],
                         "latency_ms_p90": [1.2, 2.5], "final_test_accuracy_mean": [0.5, 0.6],
                         "final_test_accuracy_std": [0.01, 0.02]})
    fig = plots.accuracy_vs_cost(arch)
    assert len(fig.axes) == 2 and all(len(ax.containers) == 2 for ax in fig.axes)


def test_progress_animation(tmp_path):
    path = plots.progress_animation(_hist(epochs=2), "case", [0, 1], tmp_path / "p.gif", {0: "a"})
    assert path.stat().st_size > 0


def test_progress_first_frame_has_data_and_a_key():
    fig, draw, frames = plots.progress_frames(_hist(epochs=3), "case", [0, 1], {0: "a"})
    assert frames == 3
    draw(0)
    lines = [l for ax in fig.axes for l in ax.lines]
    assert len(lines) == 8                                  # 2 panels × 2 seeds × train/test
    assert all(len(l.get_xdata()) == 1 and l.get_marker() not in ("", "None") for l in lines)
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    assert key == ["train", "test", "seed 0", "seed 1"]
    draw(2)
    assert all(len(l.get_xdata()) == 3 for l in lines)


def test_lr_curves_one_panel_per_schedule_none_hidden():
    h = pd.concat([_hist(keys=("constant", "plateau", "cosine"))], ignore_index=True)
    h.loc[h["case"] != "cosine", "lr"] = 1e-3               # a plateau that never fired
    t = np.linspace(0, 4, 41)
    cosine = (list(t), list(1e-3 * 0.5 * (1 + np.cos(np.pi * t / 4))))
    fig = plots.lr_curves(h, "case", ["constant", "plateau", "cosine"],
                          schedules={"constant": ([0, 4], [1e-3, 1e-3]), "cosine": cosine},
                          notes={"plateau": "did not fire within the run: not a test"})
    axes = fig.axes
    assert len(axes) == 3 and [ax.get_title() for ax in axes] == ["constant", "plateau", "cosine"]
    # the constant schedule and the plateau that never fired each have a panel
    assert [len(ax.lines) for ax in axes] == [3, 2, 3]
    assert len(axes[2].lines[0].get_xdata()) == 41          # the cosine per step, not per epoch
    assert "did not fire" in axes[1].texts[0].get_text()
    # the cosine ends at a rate of 0, which a log axis cannot show: linear, 0 on the axis
    assert all(ax.get_yscale() == "linear" for ax in axes)
    assert axes[2].lines[0].get_ydata()[-1] == 0 and axes[2].get_ylim()[0] <= 0


def test_mixing_grid_soft_labels_in_titles():
    rng = np.random.default_rng(0)
    imgs = rng.uniform(size=(4, 8, 8, 3))
    soft = np.zeros((4, 10))
    soft[:, 0], soft[:, 1] = 0.8, 0.2
    fig = plots.mixing_grid(imgs, imgs[::-1], imgs, [0, 0, 0, 0], [1, 1, 1, 1], soft,
                            [0.8] * 4, weight_name="λ", n=3)
    assert len(fig.axes) == 9
    assert fig.axes[0].get_title() == "airplane" and fig.axes[3].get_title() == "automobile"
    assert fig.axes[6].get_title() == "λ=0.80\nairplane 0.80\nautomobile 0.20"


def test_learning_curves_shared_y_covers_every_panel():
    h = _hist()
    h.loc[h["case"] == 2, "test_accuracy"] = 0.95
    fig = plots.learning_curves(h, "case", error=True)
    for ax in _visible_axes(fig):
        lo, hi = ax.get_ylim()
        assert lo <= 0.05 and hi >= 0.9                     # case 2's error 0.05, case 0's 0.9


def test_effect_vs_budget_log_epochs_intervals_and_article():
    rows = [("a", s, b, e, 0.5 + 0.1 * b + 0.01 * s) for s in range(3) for b, e in
            ((0.25, 1), (0.5, 2), (1.0, 4))]
    rows += [("b", s, b, e, 0.5 + 0.2 * b + 0.012 * s) for s in range(3) for b, e in
             ((0.25, 1), (0.5, 2), (1.0, 4))]
    rows += [("a", 9, 2.0, 8, 0.7), ("b", 9, 2.0, 8, 0.75)]     # one run each: no interval
    t = pd.DataFrame(rows, columns=["arm", "seed", "budget", "epochs", "final_test_accuracy"])
    effect = stats.compare_by_budget(t, "arm", "a", "b")
    fig = plots.effect_vs_budget(effect, article=(250, 0.0183), title="t", profile_epochs=4)
    ax = fig.axes[0]
    assert "this profile's length (4 epochs)" in [x.get_text() for x in ax.get_legend().get_texts()]
    assert ax.get_xscale() == "log"
    assert [x.get_text() for x in ax.get_xticklabels()] == ["1", "2", "4", "8", "250"]
    assert len(ax.containers) == 3                          # three budgets with an interval
    hollow = [l for l in ax.lines if l.get_markerfacecolor() == "white" and len(l.get_xdata())]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [8.0]
    article = [l for l in ax.lines if l.get_marker() == "D"]
    assert list(article[0].get_xdata()) == [250] and article[0].get_ydata()[0] == pytest.approx(1.83)
    assert [a.get_text() for a in ax.texts] == ["n=3", "n=3", "n=3", "n=1"]
    lo, hi = ax.get_xlim()
    assert lo < 1 and hi > 250


def test_lr_curves_with_schedule_and_minmax_per_image():
    fig = plots.lr_curves(_hist(), "case", [0], schedule=([0, 1.6, 2.4, 4], [1e-3, 1e-4, 1e-5, 1e-5]))
    ax = fig.axes[0]
    assert len(ax.lines) == 3                               # the schedule + 2 seeds
    assert list(ax.lines[0].get_xdata()) == [1, 2.6, 3.4, 5]
    assert ax.get_yscale() == "log"                          # step decays, never to 0
    # the schedule ends after epoch 4: its last tick reads "end", not a fifth epoch
    assert [x.get_text() for x in ax.get_xticklabels()] == ["1", "2", "3", "4", "end"]
    x = np.random.default_rng(0).normal(size=(3, 4, 4, 3))
    m = plots.minmax_per_image(x)
    assert m.min(axis=(1, 2, 3)) == pytest.approx([0, 0, 0])
    assert m.max(axis=(1, 2, 3)) == pytest.approx([1, 1, 1])


def test_calibration_draws_throughput_bars_and_accuracy_lines():
    tp = pd.DataFrame({"config": ["a", "a", "b"], "xla": [True, False, False],
                       "images_per_second": [400.0, 170.0, 90.0], "of_peak": [0.3, 0.1, 0.15]})
    acc = pd.DataFrame({"width": [16, 16, 24], "epoch": [1, 2, 1], "n_seeds": [3, 3, 1],
                        "test_accuracy_mean": [0.5, 0.6, 0.55], "train_hours_mean": [0.03, 0.06, 0.06]})
    fig = plots.calibration(tp, acc, 141.0)
    bars, lines = fig.axes
    assert len(bars.patches) == 3 and len(lines.get_lines()) == 2
    # "b" was timed without XLA only: its missing bar says so, "a"'s does not
    notes = [t for t in bars.texts if "not timed" in t.get_text()]
    assert len(notes) == 1 and notes[0].get_position()[1] == pytest.approx(1 - 0.2)
    said = plots.calibration(tp, acc, 141.0, no_xla_note="XLA: cannot compile").axes[0].texts
    assert sum("cannot compile" in t.get_text() for t in said) == 1
    empty = plots.calibration(tp, acc.iloc[:0], 141.0)
    assert "no finished" in empty.axes[1].texts[0].get_text()
    # each panel names the machine it was measured on (they may differ)
    named = plots.calibration(tp, acc, 141.0, throughput_on="host A", accuracy_on="host B")
    assert "host A" in named.axes[0].get_title() and "host B" in named.axes[1].get_title()
    assert "host" not in fig.axes[0].get_title()

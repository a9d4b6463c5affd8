"""lib.analysis.notebook: what the notebooks share (progress, figures and
tables, the sentences rendered from the runs, lookups by key), and the
notebooks themselves as stored (thin, without outputs, no display-string parsing)."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lib.analysis import notebook, stats  # noqa: E402
from lib.campaign import names  # noqa: E402
from lib.store import paths, runfiles  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
#: code lines (nbformat, code cells) the five notebooks may hold together: a third fewer
#: than the 639 counted when their repetition moved into lib.analysis.notebook (426), and
#: one line in each of three notebooks for the decayed pairs drawn beside the article's
CODE_LINES_LIMIT = 429


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("ABLATION_RESULTS_DIR", str(tmp_path))
    return tmp_path


def _fake_run(profile, rid, *, epochs=2, train_images=200, source="cifar10-jpeg.tar.gz",
              test_images=100):
    d = paths.runs_dir(profile) / rid
    d.mkdir(parents=True, exist_ok=True)
    metrics = {"best_test_accuracy": 0.5, "final_test_accuracy": 0.5, "final_train_accuracy": 0.5,
               "epochs": epochs, "train_images": train_images, "test_images": test_images,
               "train_seconds": 1.0, "wall_seconds": 1.0, "images_per_second": 1.0}
    if source is not None:
        metrics["cifar10_source"] = source
    runfiles.write_json(d / "metrics.json", metrics)
    runfiles.write_history(d / "history.csv", [
        {"epoch": e, "loss": 1.0, "accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.5,
         "lr": 1e-3, "train_seconds": 0.5, "epoch_seconds": 0.5} for e in range(1, epochs + 1)])
    return rid


def _runs_table(profile, sources=("cifar10-jpeg.tar.gz",) * 4):
    rows = []
    for i, (arm, seed) in enumerate([("a", 0), ("a", 1), ("b", 0), ("b", 1)]):
        images = 1600 if arm == "b" and seed == 0 else 200
        rid = _fake_run(profile, f"run{i}", train_images=images, source=sources[i])
        rows.append({"arm": arm, "seed": seed, "run_id": rid, "epochs": 2, "train_images": images,
                     "updates": images // 8, "series": "article"})
    return pd.DataFrame(rows)


# --- progress ---------------------------------------------------------------

class _Handle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, bundle, raw=False):
        self.shown.append(("update", bundle["text/plain"]))


def test_progress_log_shows_one_line_updated_in_place():
    shown = []

    def display(bundle, raw=False, display_id=False):
        assert raw and display_id
        shown.append(("display", bundle["text/plain"]))
        return _Handle(shown)

    log = notebook.ProgressLog(display=display)
    log("nb/smoke: 3 runs, 0 cached, 3 to train")
    for e in range(1, 4):
        log(f"epoch {e}/3")
    log("nb/smoke: done in 2s")
    assert [kind for kind, _ in shown] == ["display"] + ["update"] * 4   # one output, updated
    assert shown[-1][1] == "nb/smoke: 3 runs, 0 cached, 3 to train\nnb/smoke: done in 2s"
    assert len(log.lines) == 5


def test_progress_log_prints_outside_ipython(capsys):
    log = notebook.ProgressLog()
    log("one")
    log("two")
    assert capsys.readouterr().out == "one\ntwo\n"


# --- outputs ----------------------------------------------------------------

def test_show_figure_saves_shows_and_closes(results):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = notebook.show_figure(fig, "smoke", "nb", "curve")
    assert path == results / "smoke" / "figures" / "nb" / "curve.png" and path.stat().st_size > 0
    assert not plt.fignum_exists(fig.number)


def test_notebook_writes_tables_under_the_names_the_notebooks_use(results):
    nb = notebook.Notebook("bc_learning", "smoke")
    assert nb.P["profile"] == "smoke" and nb.paper["profile"] == "paper"
    df = pd.DataFrame({"x": [1.0]})
    nb.table(df, show=False)
    nb.table(df, "changes", show=False)
    tables = results / "smoke" / "tables"
    assert sorted(p.name for p in tables.iterdir()) == [
        "bc_learning.csv", "bc_learning.md", "bc_learning_changes.csv", "bc_learning_changes.md"]


# --- rows -------------------------------------------------------------------

def _series_table():
    rows = []
    for series, budget, epochs in (("article", 1.0, 4), ("article", 0.5, 2), ("decayed", 1.0, 4),
                                   ("long", 12.0, 48)):
        for arm in (0, 1):
            for seed in range(3):
                rows.append({"case": arm, "seed": seed, "series": series, "budget": budget,
                             "epochs": epochs,
                             "final_test_accuracy": 0.5 + 0.01 * arm * (1 if epochs < 40 else -1)
                             + 0.003 * seed + 0.002 * ((seed * 7 + arm * 3 + epochs) % 3)})
    return pd.DataFrame(rows)


def test_article_rows_keep_the_article_recipe_at_the_profile_length():
    t = notebook.article_rows(_series_table())
    assert set(t["series"]) == {"article"} and set(t["budget"]) == {1.0} and len(t) == 6


def test_length_rows_leave_out_the_decayed_series():
    t = notebook.length_rows(_series_table())
    assert set(t["series"]) == {"article", "long"}
    effect = notebook.lengths(_series_table(), "case", 0, 1)
    assert list(effect["epochs"]) == [2, 4, 48]
    # paired over the 3 seeds at every length: the decayed runs were not mixed in
    assert list(effect["n_pairs"]) == [3, 3, 3]
    one = _series_table().query("budget == 1.0 and series == 'article'")
    assert notebook.lengths(one, "case", 0, 1) is None


# --- the runs' own record ---------------------------------------------------

def test_data_sentence_reads_the_runs_sources(results):
    t = _runs_table("smoke")
    text = notebook.data_sentence(t, "smoke")
    assert text.startswith("**Data.** These runs read CIFAR-10 from `cifar10-jpeg.tar.gz`: a copy "
                           "re-encoded as JPEG")
    clean = _runs_table("budget", sources=("cifar-10-batches-py",) * 4)
    assert notebook.data_sentence(clean, "budget") == (
        "**Data.** These runs read CIFAR-10 from `cifar-10-batches-py`.")


def test_data_sentence_names_mixed_and_unrecorded_sources(results):
    t = _runs_table("smoke", sources=("cifar10-jpeg.tar.gz", "cifar10-jpeg.tar.gz",
                                      "cifar-10-batches-py", None))
    text = notebook.data_sentence(t, "smoke")
    assert "more than one copy: `cifar10-jpeg.tar.gz` (2 runs), `cifar-10-batches-py` (1 runs), " \
           "an unrecorded copy (1 runs)" in text and "The JPEG copy is" in text
    old = _runs_table("paper", sources=(None,) * 4)
    assert "do not record which copy" in notebook.data_sentence(old, "paper")


def test_data_sentence_refuses_a_corrupt_run(results):
    t = _runs_table("smoke")
    (paths.runs_dir("smoke") / "run0" / "metrics.json").write_text("{")
    with pytest.raises(runfiles.CorruptRunError):
        notebook.data_sentence(t, "smoke")


def test_counts_images_per_epoch_and_seeds(results):
    t = _runs_table("smoke")
    c = notebook.counts(t, "arm")
    assert c.loc["a", "images_per_epoch"] == 100 and c.loc["a", "updates"] == 25
    assert c.loc["b", "train_images"] == 900 and list(c["seeds"]) == [2, 2]
    assert notebook.images_per_epoch(t[t["arm"] == "a"]) == 100
    with pytest.raises(ValueError, match="different numbers of images"):
        notebook.images_per_epoch(t)
    assert notebook.seeds_text(t, "arm") == "2 seeds per arm"
    t6 = pd.concat([t, t.assign(arm="c").iloc[:1]])
    assert notebook.seeds_text(t6, "arm") == "2 seeds per arm, except arm c: 1"


def test_scale_sentence_from_the_runs(results):
    t = _runs_table("smoke")
    text = notebook.scale_sentence(t[t["arm"] == "a"], "smoke", model="`cnn10` at width 4",
                                   article="width 64", article_epochs=250, by="arm")
    assert text == ("**Scale.** The `smoke` profile trains `cnn10` at width 4 (the article: width "
                    "64) for 2 epochs (the article: 250): one run passes 100 training images per "
                    "epoch, 200 in all, in 25 optimizer updates, and is tested on 100 images; "
                    "2 seeds per arm.")
    both = notebook.scale_sentence(t, "smoke", model="m", by="arm", extra="BatchNorm 0.9")
    assert "(arm b: 900 images in 112 updates)" in both and both.endswith("; BatchNorm 0.9.")
    assert "the article" not in both


# --- comparisons ------------------------------------------------------------

def _changes():
    t = _series_table().query("series == 'article' and budget == 1.0")
    t = pd.concat([t, t[t["case"] == 1].assign(case=2, final_test_accuracy=lambda d: d[
        "final_test_accuracy"] + 0.02)])
    return stats.compare_many(t, "case", [(0, 1, "same words"), (1, 2, "same words")],
                              article={0: 0.5, 1: 0.52, 2: 0.5})


def test_change_row_finds_a_comparison_by_its_arms_not_its_wording():
    ch = _changes()
    assert notebook.change_row(ch, 1, 2)["ours"] == pytest.approx(0.02)
    assert notebook.change_row(ch, 2, 1) is None
    assert notebook.says(ch, 0, 1) == stats.change_text(notebook.change_row(ch, 0, 1))
    assert notebook.says(ch, 0, 9) == "not run"
    lines = notebook.change_lines(ch, notes={(1, 2): "Confounded"}, indent="  ")
    assert lines[0].startswith("  - **same words**: **") and "; the article: +2.00 points." in lines[0]
    assert lines[1].endswith("; the article: -2.00 points. Confounded.")


def test_cost_notes_say_what_else_differs(results):
    t = _runs_table("smoke")
    t.loc[t["arm"] == "b", ["train_images", "updates"]] = [[1600, 200], [1600, 200]]
    assert notebook.cost_notes(t, "arm", "a", "b") == "8× the images, 8× the updates"
    assert notebook.cost_notes(t, "arm", "a", "a") == ""
    assert notebook.cost_notes(t, "arm", "a", "z") == ""


def test_with_costs_adds_each_arms_updates_images_and_confounds(results):
    t = _runs_table("smoke")
    t.loc[t["arm"] == "b", ["train_images", "updates"]] = [[1600, 25], [1600, 25]]
    ch = pd.DataFrame({"from": ["a"], "to": ["b"], "change": ["x"]})
    out = notebook.with_costs(ch, t, "arm")
    assert out.iloc[0][["updates_a", "updates_b", "images_a", "images_b"]].tolist() == [25, 25, 200, 1600]
    assert out["confounded"].tolist() == ["8× the images"] and "confounded" not in ch


def test_levels_and_length_section_write_the_files_the_notebooks_keep(results, monkeypatch):
    shown = []
    monkeypatch.setattr(notebook, "markdown", lambda *lines: shown.append("\n".join(lines)))
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    nb = notebook.Notebook("bc_learning", "smoke")
    t = _series_table().assign(best_test_accuracy=lambda d: d["final_test_accuracy"])
    main = notebook.article_rows(t)
    summary = nb.levels(main, "case", {0: "no BC", 1: "BC"}, {0: 0.9, 1: 0.92},
                        figure="summary_vs_article", title="t")
    assert list(summary.columns[:2]) == ["case", "label"] and "gap_to_article" in summary
    effect = nb.length_section(t, "case", 0, 1, article_gain=0.02, what="cases 0 and 1",
                               title="t", ylabel="y", label="no BC → BC")
    assert list(effect["epochs"]) == [2, 4, 48] and effect["label"].iloc[0] == "no BC → BC"
    root = results / "smoke"
    assert sorted(p.name for p in (root / "figures" / "bc_learning").iterdir()) == [
        "budget_effect.png", "summary_vs_article.png"]
    assert {"bc_learning.csv", "bc_learning_budget_effect.csv"} <= {
        p.name for p in (root / "tables").iterdir()}
    assert shown[-1].startswith("At this profile's 2 epochs")
    assert nb.length_section(main, "case", 0, 1, article_gain=0.02, what="cases 0 and 1",
                             title="t", ylabel="y") is None
    assert "give cases 0 and 1 at one length only" in shown[-1]


def test_settings_and_run_table(results):
    nb = notebook.Notebook("bc_learning", "smoke")
    assert nb.settings("epochs", "seeds") == "`smoke` profile: epochs 2, seeds [0]"
    t = _runs_table("smoke").assign(label="L")
    assert list(notebook.run_table(t, "arm", "label").columns) == [
        "arm", "label", "series", "epochs", "seed", "run_id", "updates", "train_images"]


def _effect(diffs, spread=0.002):
    rows = []
    for e, d in diffs.items():
        for s in range(3):
            noise = spread * (s - 1)
            rows += [{"arm": 0, "seed": s, "budget": e / 3, "epochs": e, "acc": 0.6 + 0.01 * s},
                     {"arm": 1, "seed": s, "budget": e / 3, "epochs": e,
                      "acc": 0.6 + 0.01 * s + d + noise}]
    return stats.compare_by_budget(pd.DataFrame(rows), "arm", 0, 1, metric="acc")


def test_length_text_reads_the_profile_length_and_says_when_lengths_disagree():
    effect = _effect({1: 0.001, 2: -0.001, 3: -0.03, 6: 0.0005}, spread=0.004)
    assert [stats.Verdict(v) for v in effect["verdict"]] == [
        stats.Verdict.INCONCLUSIVE, stats.Verdict.INCONCLUSIVE, stats.Verdict.HURTS,
        stats.Verdict.INCONCLUSIVE]
    text = notebook.length_text(effect, 3)
    row = effect[effect["epochs"] == 3].iloc[0]
    assert text.startswith(f"At this profile's 3 epochs: {stats.change_text(row)}.")
    assert "**The lengths disagree**: inconclusive at 1, 2 and 6 epochs; hurts at 3 epochs." in text
    assert "sign moves with the length: +0.10 points at 1 epoch, -0.10 points at 2 epochs" in text
    assert "smallest Holm-adjusted p-value" in text
    with pytest.raises(ValueError):
        notebook.length_text(effect, 4)


def test_length_text_and_direction_when_every_length_agrees():
    effect = _effect({1: -0.03, 2: -0.04, 4: -0.05})
    text = notebook.length_text(effect, 4)
    assert "Every length run agrees: hurts at each of 1, 2 and 4 epochs." in text
    assert "sign moves" not in text
    d = notebook.direction_text(effect, "The gain of BC", 250)
    assert d.startswith("The gain of BC has the same sign and verdict (hurts) at each of the 3 "
                        "lengths run (-3.00 points at 1 epoch")
    assert d.endswith("whether that holds at the article's 250 epochs these runs cannot say.")


def test_direction_text_sign_and_verdict_changes():
    flip = notebook.direction_text(_effect({1: -0.03, 48: 0.03}), "The gain of BC", 250)
    assert flip.startswith("The gain of BC changes sign with the length of training (-3.00 points "
                           "at 1 epoch, +3.00 points at 48 epochs)")
    mixed = notebook.direction_text(_effect({1: -0.0005, 3: -0.03}, spread=0.004), "X", 200)
    assert "keeps its sign across the lengths run" in mixed
    assert "inconclusive at 1 epoch; hurts at 3 epochs" in mixed
    one = _effect({1: -0.03, 2: 0.01}).assign(verdict=stats.Verdict.NO_VERDICT)
    assert notebook.direction_text(one, "BC", 250).startswith(
        "BC gets no verdict at any of the 2 lengths run (-3.00 points at 1 epoch, +1.00 points at "
        "2 epochs; one run on a side, or no spread), so these runs cannot show its direction")
    assert notebook.direction_text(None, "BC", 250) == (
        "BC has finished runs at one length only, so these runs cannot show whether it keeps its direction at "
        "the article's 250 epochs.")


def test_level_claim_is_not_tested_below_the_level():
    text = notebook.level_claim([0.55, 0.6, 0.62], 0.9, 0.645, "at width 16 and 3 epochs")
    assert text.startswith("not testable at this scale: the accuracy level itself is far below "
                           "90% at width 16 and 3 epochs. The best run of any arm reaches 64.5%, "
                           "these 3 runs 55.0% to 62.0%;")
    assert notebook.level_claim([0.91, 0.93], 0.9, 0.93, "") == \
        "2 of 2 runs above 90% (lowest 91.0%): holds in these runs."
    assert notebook.level_claim([0.89, 0.93], 0.9, 0.93, "").endswith("does not hold in these runs.")


# --- schedules --------------------------------------------------------------

def _lr_hist(rates_by_seed):
    return pd.DataFrame([{"seed": s, "epoch": e, "lr": lr} for s, rates in rates_by_seed.items()
                         for e, lr in enumerate(rates, 1)])


def test_plateau_text_from_the_history():
    never = _lr_hist({0: [1e-3] * 3, 1: [1e-3] * 3})
    assert notebook.plateau_text(never).startswith("did not fire within the run: not a test")
    assert not notebook.plateau_fired(never).any()
    some = _lr_hist({0: [1e-3, 1e-4, 1e-4], 1: [1e-3] * 3})
    assert notebook.plateau_text(some).startswith("lowered the rate in 1 of its 2 runs")
    every = _lr_hist({0: [1e-3, 1e-4, 1e-4]})
    assert notebook.plateau_text(every) == "lowered the rate in its one run"
    assert "rate never fell in any of its 2 runs" in notebook.plateau_text(never)
    assert notebook.plateau_text(pd.DataFrame(columns=["seed", "epoch", "lr"])) == "not run"


def test_schedule_curves_as_specified():
    assert notebook.schedule_curve({"name": "constant"}, 1e-3, 3) == ([0.0, 3.0], [1e-3, 1e-3])
    t, rate = notebook.schedule_curve({"name": "step", "milestones": [1.2, 2.4],
                                       "multipliers": [0.1, 0.01]}, 1e-3, 3)
    assert t == [0.0, 1.2, 2.4, 3.0] and rate == pytest.approx([1e-3, 1e-4, 1e-5, 1e-5])
    t, rate = notebook.schedule_curve({"name": "cosine", "alpha": 0.0}, 1e-3, 3, steps_per_epoch=10)
    assert len(t) == 31 and t[10] == 1.0                    # every optimizer step
    assert rate[0] == pytest.approx(1e-3) and rate[15] == pytest.approx(5e-4, rel=1e-4)
    assert rate[-1] == pytest.approx(0.0, abs=1e-9)
    assert notebook.schedule_curve({"name": "plateau"}, 1e-3, 3) is None
    with pytest.raises(ValueError):
        notebook.schedule_curve({"name": "cosine"}, 1e-3, 3)


# --- the notebooks as stored --------------------------------------------------

def _read(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", names.NOTEBOOKS)
def test_notebook_is_stored_without_outputs_and_keeps_its_contract(name):
    nb = _read(name)
    assert all(not c.outputs and c.execution_count is None for c in _code(nb))
    assert nb.cells[0].cell_type == "markdown" and f"../docs/articles.md#{name}" in nb.cells[0].source
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and \
        'profile = os.environ.get("ABLATION_PROFILE") or DEFAULT_PROFILE' in params[0].source
    assert "from lib.campaign.names import" in params[0].source


@pytest.mark.parametrize("name", names.NOTEBOOKS)
def test_notebook_looks_things_up_by_key_not_by_display_text(name):
    code = "\n".join(c.source for c in _code(_read(name)))
    assert ".split(" not in code                            # no parsing of labels or wording
    assert "plt.show()" not in code                         # figures go through nb.figure
    assert "report.save_figure" not in code


def test_notebooks_are_thin():
    lines = sum(len(c.source.splitlines()) for n in names.NOTEBOOKS for c in _code(_read(n)))
    assert lines <= CODE_LINES_LIMIT, lines

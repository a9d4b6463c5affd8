"""lib.report: markdown and CSV tables, figure files and the index (the
statistics are tested in test_stats.py)."""
import math

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lib.analysis import report  # noqa: E402

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("ABLATION_RESULTS_DIR", str(tmp_path))
    return tmp_path


def _table():
    return pd.DataFrame({"case": [0, 1, 2], "acc": [0.12345, float("nan"), 0.5], "note": ["x", None, "z"]})


def test_markdown_formats_floats_and_gaps():
    md = report.to_markdown(_table())
    lines = md.splitlines()
    assert lines[0] == "| case | acc | note |" and lines[1] == "| --- | --- | --- |"
    assert lines[2] == "| 0 | 0.1235 | x |" and lines[3] == "| 1 | – | – |"
    assert report.to_markdown(_table(), ".1f").splitlines()[4] == "| 2 | 0.5 | z |"


def test_write_table_figure_and_index(results):
    csv, md = report.write_table(_table(), "smoke", "nb")
    assert csv == results / "smoke" / "tables" / "nb.csv" and md.read_text() == report.to_markdown(_table())
    back = pd.read_csv(csv)
    assert back["acc"].iloc[0] == pytest.approx(0.12345) and math.isnan(back["acc"].iloc[1])
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    png = report.save_figure(fig, "smoke", "nb", "curve")
    plt.close(fig)
    assert png == results / "smoke" / "figures" / "nb" / "curve.png" and png.stat().st_size > 0
    (results / "smoke" / "nb.ipynb").write_text("{}")
    index = report.write_index("smoke").read_text()
    assert "[nb.ipynb](nb.ipynb)" in index and "tables/nb.csv" in index
    assert "![curve](figures/nb/curve.png)" in index and "| 0 | 0.1235 | x |" in index


def test_index_says_at_what_scale_each_notebooks_runs_were_trained(results, tiny_spec, tiny_data):
    from lib.campaign import cache
    cache.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    scale = report.run_scales("smoke")["test"]           # tiny_spec's notebook is "test"
    assert scale.startswith("1 finished runs; 160 training images per epoch, 40 test images, "
                            "3 epochs; models bn_momentum=0.9, name=cnn10, width=2; ")
    assert "- scale: 1 finished runs" in report.write_index("smoke").read_text()


def test_index_says_when_a_notebooks_runs_are_not_rendered_yet(results, tiny_spec, tiny_data):
    from lib.campaign import cache
    from lib.store import paths
    spec = dict(tiny_spec, notebook="bc_learning")
    cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    index = report.write_index("smoke").read_text()
    assert "- executed notebook: none yet; `make bc_learning PROFILE=smoke`" in index
    (paths.profile_dir("smoke") / "bc_learning.ipynb").write_text("{}")
    index = report.write_index("smoke").read_text()
    assert "- executed notebook: [bc_learning.ipynb](bc_learning.ipynb)" in index
    assert "none yet" not in index
    # a notebook with this profile's params and no run yet still gets its section
    assert "### training_tricks: runs, tables, figures\n\n- scale: no run finished yet (`params/training_tricks/smoke.yaml`" \
        in index


def test_makefile_asks_the_one_list_of_notebooks_and_profiles():
    import subprocess
    from pathlib import Path

    from lib.campaign import names
    repo = Path(__file__).parents[1]
    asked = lambda var: subprocess.run(   # noqa: E731
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "show"], cwd=repo,
        input=f"show:\n\t@echo $({var})\n", capture_output=True, text=True,
        check=True).stdout.split()
    assert asked("NOTEBOOKS") == list(names.NOTEBOOKS)
    assert asked("PROFILE") == [names.DEFAULT_PROFILE]
    assert all((repo / "notebooks" / f"{n}.ipynb").exists() for n in names.NOTEBOOKS)
    assert names.DEFAULT_PROFILE in names.PROFILES


def test_bn_momentum_clause_only_when_the_profile_departs_from_the_article():
    assert report.bn_momentum_clause(None) == ""
    assert report.bn_momentum_clause(0.99, None) == ""       # Keras's default, spelled out
    text = report.bn_momentum_clause(0.9)
    assert text.startswith("BatchNorm momentum 0.9 (the article: 0.99, Keras's default)")
    assert text.endswith("leave the slower average behind")
    slower = report.bn_momentum_clause(0.999, 0.9)
    assert "(the article: 0.9)" in slower and "behind" not in slower


@pytest.mark.backend_free
def test_a_damaged_run_never_reaches_a_table(results, tiny_spec, tiny_data):
    """The index, plan's speeds and the ledger read runs through the checked
    readers: a metrics.json that does not parse, or a history shorter than it
    says, is left out instead of counted."""
    from lib.campaign import cache, plan
    from lib.store.runfiles import CorruptRunError, cpu_id
    from lib.training.spec import configuration, spec_id
    good = dict(tiny_spec, notebook="natural_artificial_loss")
    bad = dict(good, seed=1)
    for s in (good, bad):
        cache.ensure(s, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert report.run_scales("smoke")["natural_artificial_loss"].startswith("2 finished runs")
    metrics = cache.run_dir(bad, "smoke") / "metrics.json"
    metrics.write_text(metrics.read_text()[:40])                  # cut short: not JSON
    assert report.run_scales("smoke")["natural_artificial_loss"].startswith("1 finished runs")
    speeds = plan.finished_throughput("smoke", cpu_id())
    assert speeds[spec_id(configuration(good))]["runs"] == 1
    with pytest.raises(CorruptRunError):
        cache.load(cache.run_dir(bad, "smoke"))

"""``make bench``: images/s of our input pipeline, of the training step, and
of the BC-learning article's way of training, measured in one process.

    python -m lib.throughput [--width 64] [--batch-size 128] [--batches 15]
                             [--repeats 2] [--out results/bench]

What is timed (cnn10, BC mixing, KL loss, Adam, the same model for all):

- ``pipeline``: our vectorized ``MixingBatches`` building batches alone.
- ``article_generator``: the article's per-image Python BC generator alone.
- ``train_step``: ``model.fit`` on batches already in memory, XLA on.
- ``ours_end_to_end``: ``MixingBatches`` (2 worker threads) feeding ``model.fit``, XLA on.
- ``article_end_to_end``: the article's generator feeding ``model.fit``, XLA off
  (Keras 2 / TF 2 ``fit_generator`` as the article ran it had none).

Each measurement is warmed up (compiled) first; then every measurement is
repeated ``repeats`` rounds in turn, so a slow spell of the machine hits all
of them. The report takes the median over rounds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .runs import results_root


def article_bc_generator(x, onehot, batch_size: int, step_size: int, rng=np.random):
    """A faithful re-implementation of the BC-learning article's generator:
    per epoch a fresh permutation, cut into groups of ``step_size`` anchors;
    for every anchor, in a Python loop, a partner of another class from the
    same group and a ratio r ~ U(0, 1) folded to >= 0.5; images are mixed in
    uint8->float64 one at a time, stacked, then scaled to [0, 1]."""
    labels = onehot.argmax(axis=1)
    while True:
        order = rng.permutation(len(x))
        for g in range(len(x) // step_size):
            group = order[g * step_size:(g + 1) * step_size]
            imgs, lab, hot = x[group], labels[group], onehot[group]
            xs, ys = [], []
            for _ in range(batch_size // step_size):
                for k in range(step_size):
                    others = np.where(lab != lab[k])[0]
                    j = rng.choice(others)
                    r = rng.rand()
                    if r < 0.5:
                        r = 1.0 - r
                    xs.append(r * imgs[k] + (1.0 - r) * imgs[j])
                    ys.append(r * hot[k] + (1.0 - r) * hot[j])
            yield np.asarray(xs, np.float32) / 255.0, np.asarray(ys, np.float32)


def _compiled(width: int, jit: bool, seed: int = 0):
    import keras

    from . import models

    keras.utils.set_random_seed(seed)
    m = models.build("cnn10", width=width)
    m.compile(keras.optimizers.Adam(1e-3), keras.losses.KLDivergence(), jit_compile=jit)
    return m


def measure(width: int = 64, batch_size: int = 128, batches: int = 15, repeats: int = 2,
            data=None, log=print) -> dict:
    """Run every measurement; returns a dict of results (images/s per item,
    FLOPs, ratios, environment)."""
    import keras

    from . import models, train
    from .augment import one_hot
    from .data import stratified_subset
    from .pipeline import MixingBatches

    if data is None:
        xtr, ytr, _, _ = train.load_data({"name": "cifar10"})
    else:
        xtr, ytr = data[:2]
    n = batches * batch_size
    if len(xtr) < n:
        raise ValueError(f"{batches} batches of {batch_size} need {n} images; have {len(xtr)}")
    # the stored training set may be ordered by class: subsample across classes
    x_small, y_small = stratified_subset(xtr, ytr, n, seed=0)
    hot = one_hot(ytr)

    ours = MixingBatches(xtr, ytr, batch_size=batch_size, mixing="bc", seed=0)
    ours_fit = MixingBatches(x_small, y_small, batch_size=batch_size, mixing="bc", seed=0,
                             workers=2, use_multiprocessing=False, max_queue_size=8)
    gen = article_bc_generator(xtr, hot, batch_size, batch_size, np.random.RandomState(0))
    gen_fit = article_bc_generator(x_small, one_hot(y_small), batch_size, batch_size,
                                   np.random.RandomState(0))
    x_mem, y_mem, _ = ours.batch(0)
    x_mem = np.concatenate([x_mem] * batches)
    y_mem = np.concatenate([y_mem] * batches)

    log("compiling and warming up ...")
    fast, slow = _compiled(width, True), _compiled(width, False)
    fast.fit(x_mem[:2 * batch_size], y_mem[:2 * batch_size], batch_size=batch_size, verbose=0)
    slow.fit(gen_fit, steps_per_epoch=2, shuffle=False, verbose=0)
    next(gen)

    def time_it(fn):
        t0 = time.perf_counter()
        fn()
        return n / (time.perf_counter() - t0)

    items = {
        "pipeline": lambda: [ours[i] for i in range(batches)],
        "article_generator": lambda: [next(gen) for _ in range(batches)],
        "train_step": lambda: fast.fit(x_mem, y_mem, batch_size=batch_size, epochs=1,
                                       shuffle=False, verbose=0),
        "ours_end_to_end": lambda: fast.fit(ours_fit, epochs=1, verbose=0),
        "article_end_to_end": lambda: slow.fit(gen_fit, steps_per_epoch=batches, epochs=1,
                                               shuffle=False, verbose=0),
    }
    rounds = {k: [] for k in items}
    for r in range(repeats):
        for k, fn in items.items():
            rounds[k].append(time_it(fn))
            log(f"round {r + 1}/{repeats}  {k:<20} {rounds[k][-1]:9.1f} img/s")
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    flops = models.flops_per_image(fast)
    return {
        "config": {"model": "cnn10", "width": width, "batch_size": batch_size,
                   "batches_per_measurement": batches, "repeats": repeats, "mixing": "bc",
                   "step_size": batch_size, "loss": "kl_divergence", "optimizer": "adam"},
        "images_per_second": med,
        "images_per_second_rounds": rounds,
        "ratios": {
            "pipeline_over_train_step": med["pipeline"] / med["train_step"],
            "ours_over_article_end_to_end": med["ours_end_to_end"] / med["article_end_to_end"],
            "pipeline_over_article_generator": med["pipeline"] / med["article_generator"],
        },
        "targets": {"pipeline_over_train_step": 20.0, "ours_over_article_end_to_end": 2.0},
        "flops_per_image": flops,
        "achieved_train_gflops_per_second": med["train_step"] * flops["train"] / 1e9,
        "params": int(fast.count_params()),
        "environment": {**train.environment(), "processor": platform.processor(),
                        "python": platform.python_version()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def to_markdown(res: dict) -> str:
    ips, rat, tgt = res["images_per_second"], res["ratios"], res["targets"]
    env = res["environment"]
    c = res["config"]
    rows = [
        ("(a) our input pipeline alone (BC, vectorized)", ips["pipeline"]),
        ("    the article's per-image generator alone", ips["article_generator"]),
        ("(b) training step alone (batches in memory, XLA)", ips["train_step"]),
        ("    ours end to end (pipeline + fit, XLA)", ips["ours_end_to_end"]),
        ("(c) the article's way end to end (generator + fit, no XLA)", ips["article_end_to_end"]),
    ]
    lines = [f"# Throughput: `cnn10` width {c['width']}, batch {c['batch_size']}, "
             f"backend `{env['backend']}`", "",
             f"Measured {res['measured_at']} on {env['cpu_count']} CPU cores ({env['machine']}), "
             f"median of {c['repeats']} rounds of {c['batches_per_measurement']} batches. "
             "Regenerate with `make bench`.", "",
             "| what | images/s |", "| --- | ---: |"]
    lines += [f"| {name} | {v:,.1f} |" for name, v in rows]
    ok = lambda k: "meets" if rat[k] >= tgt[k] else "MISSES"   # noqa: E731
    lines += ["", "| ratio | value | target |", "| --- | ---: | --- |",
              f"| (a)/(b) pipeline over training step | {rat['pipeline_over_train_step']:,.1f}x | "
              f"≥ {tgt['pipeline_over_train_step']:g}x ({ok('pipeline_over_train_step')}) |",
              f"| ours end to end over (c) | {rat['ours_over_article_end_to_end']:.2f}x | "
              f"≥ {tgt['ours_over_article_end_to_end']:g}x ({ok('ours_over_article_end_to_end')}) |",
              f"| our pipeline over the article's generator | "
              f"{rat['pipeline_over_article_generator']:,.1f}x | – |",
              "", f"Model: {res['params']:,} parameters, "
              f"{res['flops_per_image']['forward'] / 1e6:,.1f} MFLOP per image forward, "
              f"{res['flops_per_image']['train'] / 1e6:,.1f} MFLOP per image per training step "
              f"(3x forward). The training step alone reaches "
              f"{res['achieved_train_gflops_per_second']:,.1f} GFLOP/s on this machine: set that "
              "against the device's peak to see how much of it is used."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.throughput", description=__doc__.split("\n")[0])
    ap.add_argument("--width", type=int, default=64, help="cnn10 width (64 = the article's)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--batches", type=int, default=15, help="batches per measurement")
    ap.add_argument("--repeats", type=int, default=2, help="rounds of every measurement")
    ap.add_argument("--out", default=None, help="output folder (default results/bench)")
    a = ap.parse_args(argv)
    for k in ("width", "batch_size", "batches", "repeats"):
        if getattr(a, k) < 1:
            ap.error(f"--{k.replace('_', '-')} must be >= 1")
    res = measure(a.width, a.batch_size, a.batches, a.repeats)
    out = Path(a.out) if a.out else results_root() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    backend = res["environment"]["backend"]
    (out / f"throughput-{backend}.json").write_text(json.dumps(res, indent=2) + "\n")
    md = to_markdown(res)
    (out / f"throughput-{backend}.md").write_text(md)
    print(md)
    print(f"wrote {out}/throughput-{backend}.{{json,md}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``make bench``: images/s of our input pipeline, of the training step, and
of the BC-learning article's way of training, measured in one process.

    python -m lib bench [--width 64] [--batch-size 128] [--batches 12]
                            [--repeats 4] [--out results/bench]

What is timed (cnn10, BC mixing, KL loss, Adam, the same model for all):

- ``pipeline``: our vectorized ``MixingBatches`` building batches alone.
- ``pipeline_parallel``: the same with one thread per CPU core; a batch is a
  function of (seed, epoch, index) and numpy releases the GIL, so batches can
  be built concurrently (Keras's PyDataset ``workers`` do this).
- ``article_generator``: the article's per-image Python BC generator alone
  (one Python generator: it cannot be advanced from several threads).
- ``train_step``: the compiled training step alone (``train_on_batch`` on
  batches already in memory), XLA on. (``fit`` on in-memory arrays is not
  used: its array adapter capped it at ~75 img/s here, below the step itself.)
- ``ours_end_to_end``: ``MixingBatches`` (2 worker threads) feeding ``model.fit``, XLA on.
- ``article_end_to_end``: the article's generator feeding ``model.fit``, XLA off
  (Keras 2 / TF 2 ``fit_generator`` as the article ran it had none).
- ``train_step_no_xla`` and ``ours_end_to_end_no_xla``: the same two without
  XLA, which separates what the pipeline changes from what the compiler does.

The input-side items are timed first, in rounds, before any model exists:
once TensorFlow has run a step its thread pools keep the cores busy for a
while and halved numpy's speed in this process. Then the model items are
warmed up (compiled) and timed in rounds. Taking turns within a phase makes a
slow spell of the machine hit every item of it; the report takes the median
over rounds.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..store.runfiles import environment


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


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """float32 GFLOP/s of the best of ``repeats`` n x n matmuls (numpy's BLAS,
    all cores): the ceiling a training step's FLOP/s is set against."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    a @ b
    best = min(_best_of(a, b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _best_of(a, b) -> float:
    t0 = time.perf_counter()
    a @ b
    return time.perf_counter() - t0


def _compiled(width: int, jit: bool, seed: int = 0):
    import keras

    from ..training import models

    keras.utils.set_random_seed(seed)
    m = models.build("cnn10", width=width)
    m.compile(keras.optimizers.Adam(1e-3), keras.losses.KLDivergence(), jit_compile=jit)
    return m


def measure(width: int = 64, batch_size: int = 128, batches: int = 12, repeats: int = 4,
            data=None, log=print) -> dict:
    """Run every measurement; returns a dict of results (images/s per item,
    FLOPs, ratios, environment)."""

    from ..training import models
    from ..training.augment import one_hot
    from ..training.data import load_data, stratified_subset
    from ..training.pipeline import MixingBatches

    if data is None:
        xtr, ytr, _, _ = load_data({"name": "cifar10"})
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

    threads = os.cpu_count() or 1
    pool = ThreadPoolExecutor(threads)

    def steps(model):
        for i in range(batches):
            model.train_on_batch(x_mem[i * batch_size:(i + 1) * batch_size],
                                 y_mem[i * batch_size:(i + 1) * batch_size])

    def time_it(fn, images):
        t0 = time.perf_counter()
        fn()
        return images / (time.perf_counter() - t0)

    def run_phase(items, images):
        for r in range(repeats):
            for k, fn in items.items():
                rounds[k].append(time_it(fn, images))
                log(f"round {r + 1}/{repeats}  {k:<22} {rounds[k][-1]:9.1f} img/s")

    # the input side is fast: time more batches than a model step needs (<= one epoch)
    in_batches = min(len(ours), max(batches, 100))
    input_items = {
        "pipeline": lambda: [ours[i] for i in range(in_batches)],
        "pipeline_parallel": lambda: list(pool.map(ours.__getitem__, range(in_batches))),
        "article_generator": lambda: [next(gen) for _ in range(in_batches)],
    }
    rounds = {k: [] for k in input_items}
    for fn in input_items.values():   # warm-up: first-touch of the arrays, thread start
        fn()
    run_phase(input_items, in_batches * batch_size)

    log("compiling and warming up the models ...")
    fast, slow = _compiled(width, True), _compiled(width, False)
    for m in (fast, slow):
        m.train_on_batch(x_mem[:batch_size], y_mem[:batch_size])
        m.fit(ours_fit, epochs=1, steps_per_epoch=2, verbose=0)
    slow.fit(gen_fit, steps_per_epoch=2, shuffle=False, verbose=0)
    model_items = {
        "train_step": lambda: steps(fast),
        "ours_end_to_end": lambda: fast.fit(ours_fit, epochs=1, verbose=0),
        "article_end_to_end": lambda: slow.fit(gen_fit, steps_per_epoch=batches, epochs=1,
                                               shuffle=False, verbose=0),
        "train_step_no_xla": lambda: steps(slow),
        "ours_end_to_end_no_xla": lambda: slow.fit(ours_fit, epochs=1, verbose=0),
    }
    rounds.update({k: [] for k in model_items})
    run_phase(model_items, n)
    pool.shutdown()
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    flops = models.flops_per_image(fast)
    return {
        "config": {"model": "cnn10", "width": width, "batch_size": batch_size,
                   "batches_per_measurement": batches, "repeats": repeats, "mixing": "bc",
                   "step_size": batch_size, "loss": "kl_divergence", "optimizer": "adam",
                   "pipeline_threads": threads, "input_batches_per_measurement": in_batches},
        "images_per_second": med,
        "images_per_second_rounds": rounds,
        "ratios": {
            "pipeline_over_train_step": med["pipeline"] / med["train_step"],
            "ours_over_article_end_to_end": med["ours_end_to_end"] / med["article_end_to_end"],
            "train_step_over_article_end_to_end": med["train_step"] / med["article_end_to_end"],
            "ours_no_xla_over_article_end_to_end":
                med["ours_end_to_end_no_xla"] / med["article_end_to_end"],
            "xla_speedup_of_train_step": med["train_step"] / med["train_step_no_xla"],
            "pipeline_over_article_generator": med["pipeline"] / med["article_generator"],
            "parallel_pipeline_over_article_generator":
                med["pipeline_parallel"] / med["article_generator"],
        },
        "targets": {"pipeline_over_train_step": 20.0, "ours_over_article_end_to_end": 2.0},
        "flops_per_image": flops,
        "achieved_train_gflops_per_second": med["train_step"] * flops["train"] / 1e9,
        "matmul_peak_gflops_per_second": matmul_peak_gflops(),
        "params": int(fast.count_params()),
        "environment": environment(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def to_markdown(res: dict) -> str:
    ips, rat, tgt = res["images_per_second"], res["ratios"], res["targets"]
    env = res["environment"]
    c = res["config"]
    rows = [
        ("(a) our input pipeline alone (BC, vectorized, 1 thread)", ips["pipeline"]),
        (f"    our input pipeline, {c['pipeline_threads']} threads", ips["pipeline_parallel"]),
        ("    the article's per-image generator alone", ips["article_generator"]),
        ("(b) training step alone (batches in memory, XLA)", ips["train_step"]),
        ("    ours end to end (pipeline + fit, XLA)", ips["ours_end_to_end"]),
        ("(c) the article's way end to end (generator + fit, no XLA)", ips["article_end_to_end"]),
        ("    training step alone, no XLA", ips["train_step_no_xla"]),
        ("    ours end to end, no XLA", ips["ours_end_to_end_no_xla"]),
    ]
    lines = [f"# Throughput: `cnn10` width {c['width']}, batch {c['batch_size']}, "
             f"backend `{env['backend']}`", "",
             f"Measured {res['measured_at']} on {env['cpu_count']} CPU cores ({env['machine']}), "
             f"median of {c['repeats']} rounds; each round times "
             f"{c.get('input_batches_per_measurement', c['batches_per_measurement'])} batches of "
             f"the input-side items, then {c['batches_per_measurement']} batches of the "
             "model items. Regenerate with `make bench`.", "",
             "| what | images/s |", "| --- | ---: |"]
    lines += [f"| {name} | {v:,.1f} |" for name, v in rows]
    ok = lambda k: "meets" if rat[k] >= tgt[k] else "MISSES"   # noqa: E731
    lines += ["", "| ratio | value | target |", "| --- | ---: | --- |",
              f"| (a)/(b) pipeline over training step | {rat['pipeline_over_train_step']:,.1f}x | "
              f"≥ {tgt['pipeline_over_train_step']:g}x ({ok('pipeline_over_train_step')}) |",
              f"| ours end to end over (c) | {rat['ours_over_article_end_to_end']:.2f}x | "
              f"≥ {tgt['ours_over_article_end_to_end']:g}x ({ok('ours_over_article_end_to_end')}) |",
              f"| (b)/(c) training step over the article's way | "
              f"{rat['train_step_over_article_end_to_end']:.2f}x | – |",
              f"| ours end to end without XLA over (c): the pipeline's share | "
              f"{rat['ours_no_xla_over_article_end_to_end']:.2f}x | – |",
              f"| XLA speed-up of the training step | {rat['xla_speedup_of_train_step']:.2f}x | – |",
              f"| our pipeline over the article's generator, 1 thread | "
              f"{rat['pipeline_over_article_generator']:,.1f}x | – |",
              f"| our pipeline over the article's generator, {c['pipeline_threads']} threads | "
              f"{rat['parallel_pipeline_over_article_generator']:,.1f}x | – |",
              "", f"Model: {res['params']:,} parameters, "
              f"{res['flops_per_image']['forward'] / 1e6:,.1f} MFLOP per image forward, "
              f"{res['flops_per_image']['train'] / 1e6:,.1f} MFLOP per image per training step "
              f"(3x forward). The training step alone reaches "
              f"{res['achieved_train_gflops_per_second']:,.1f} GFLOP/s on this machine, "
              f"{res['achieved_train_gflops_per_second'] / res['matmul_peak_gflops_per_second']:.0%} "
              f"of its float32 matmul peak ({res['matmul_peak_gflops_per_second']:,.0f} GFLOP/s, "
              "a 2048 x 2048 matmul)."]
    return "\n".join(lines) + "\n"


def write(res: dict, out: Path) -> Path:
    """``res`` as ``throughput-<backend>.json`` and ``.md`` in ``out``; the
    markdown's path."""
    out.mkdir(parents=True, exist_ok=True)
    backend = res["environment"]["backend"]
    (out / f"throughput-{backend}.json").write_text(json.dumps(res, indent=2) + "\n")
    md = out / f"throughput-{backend}.md"
    md.write_text(to_markdown(res))
    return md

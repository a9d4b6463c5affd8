"""The one command line: ``python -m lib COMMAND`` (``--help`` lists them).

    python -m lib compute bc_learning --profile budget [--executor ray] [--only series=long]
    python -m lib plan all --profile paper --tflops 300
    python -m lib check bc_learning --profile paper
    python -m lib list [--profile budget]
    python -m lib calibrate [--profile budget]
    python -m lib bench
    python -m lib index [--profile budget]
    python -m lib claims [--profile budget]
    python -m lib retire-prefixes [--profile budget] [--delete]
    python -m lib notebooks | profiles
"""

from __future__ import annotations

import argparse
import os
import sys

from .campaign import cache, compute, experiments, profiles
from .campaign.params import ParamError
from .store.paths import runs_dir
from .store.runfiles import CorruptRunError, read_json
from .store.runlock import Locked


def _cmd_retire_prefixes(args) -> int:
    """Exit 1 when a prefix run that a profile row reads does not match its
    longer run."""
    planned = [s for nb in experiments.names() if profiles.has_profile(nb, args.profile)
               for s in profiles.planned_specs(nb, args.profile)]
    return 1 if cache.retire_prefixes(args.profile, delete=args.delete, planned=planned) else 0


def _cmd_compute(args) -> int:
    overrides = {}
    if args.seeds:
        overrides["seeds"] = [int(s) for s in args.seeds.split(",")]
    if args.mixed_precision:
        overrides["precision"] = "mixed_bfloat16"
    options = {}
    if args.xla:
        options["jit_compile"] = args.xla == "on"
    if args.recompute:
        cache.recompute(args.recompute.split(","), args.profile)
    executor_options = {}
    if args.executor == "ray":
        executor_options = {"gpus_per_run": args.gpus_per_run, "cpus_per_run": args.cpus_per_run}
    only = dict(_label_value(o) for o in args.only or [])
    try:
        table = compute.ensure_all(args.notebook, args.profile, overrides, executor=args.executor,
                           executor_options=executor_options, only=only,
                           wait=not args.no_wait, **options)
    except compute.RunsFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(table.to_string(index=False))
    return 0


def _label_value(text: str) -> tuple[str, object]:
    """``"key=value"`` -> ``(key, value)``, the value read as YAML (``1``,
    ``0.2``, ``true``, ``long``)."""
    import yaml
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ParamError(f"--only {text!r}: expected LABEL=VALUE, e.g. series=long")
    return key, yaml.safe_load(value)


def _cmd_list(args) -> int:
    for prof in [args.profile] if args.profile else profiles.PROFILES:
        root = runs_dir(prof)
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if not d.is_dir():
                continue
            try:
                notebook = read_json(d / "spec.json").get("notebook", "?")
            except (CorruptRunError, FileNotFoundError):
                notebook = "?"
            st = cache.run_status(d)
            print(f"{prof:6s} {d.name}  {notebook:24s} {st.status:10s} {st.detail}")
    return 0


def _cmd_plan(args) -> int:
    from .campaign import plan
    notebooks = experiments.names() if args.notebook == "all" else [args.notebook]
    xla = None if args.xla is None else args.xla == "on"
    print(plan.render(plan.plan(notebooks, args.profile, xla), args.profile, args.tflops,
                      verbose=not args.totals, xla=xla))
    return 0


def _cmd_check(args) -> int:
    from .measure import check
    table = check.check(args.notebook, args.profile, steps=args.steps, max_batch=args.max_batch)
    print(table[["config_id", "run", "batch_size", "probe_batch", "mixing",
                 "train_gflop_per_image", "ok",
                 "images_per_second", "tflops", "seconds", "error"]].to_string(index=False))
    return 0 if table["ok"].all() else 1


def _cmd_calibrate(args) -> int:
    from .analysis import plots, report
    from .measure import calibration

    table = calibration.throughput_table(args.profile, args.batches, args.repeats)
    report.write_table(table, args.profile, "calibration_throughput")
    print(f"float32 matmul peak: {table.attrs['peak_gflops']:.0f} GFLOP/s")
    print(report.to_markdown(table))
    acc = calibration.accuracy_table(args.profile)
    report.write_table(acc, args.profile, "calibration_accuracy")
    print(report.to_markdown(acc))
    fig = plots.calibration(table, acc, table.attrs["peak_gflops"],
                            title=f"calibration of the {args.profile} profile",
                            throughput_on=table.attrs["measured_on"],
                            accuracy_on=acc.attrs.get("trained_on", ""),
                            no_xla_note=calibration.NO_XLA_NOTE)
    print(report.save_figure(fig, args.profile, "calibration", "calibration"))
    return 0


def _cmd_bench(args) -> int:
    from pathlib import Path

    from .measure import benchmark
    from .store.paths import results_root

    res = benchmark.measure(args.width, args.batch_size, args.batches, args.repeats)
    out = Path(args.out) if args.out else results_root() / "bench"
    print(benchmark.to_markdown(res))
    print(f"wrote {benchmark.write(res, out)}")
    return 0


def _cmd_index(args) -> int:
    from .analysis import report
    print(report.write_index(args.profile))
    return 0


def _cmd_claims(args) -> int:
    from .analysis import claims
    csv, md = claims.write(args.profile, log=lambda s: None)
    print(md.read_text())
    if args.readme:
        print(f"updated {claims.update_readme(args.profile)}")
    print(f"wrote {csv} and {md}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m lib", description=__doc__.split("\n")[0],
                                 epilog="`python -m lib COMMAND --help` for each command's options")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    profile = dict(default=os.environ.get("ABLATION_PROFILE", profiles.DEFAULT_PROFILE),
                   choices=profiles.PROFILES)
    c = sub.add_parser("compute", help="train or load every run of a notebook's profile")
    c.add_argument("notebook", choices=experiments.names())
    c.add_argument("--profile", **profile)
    c.add_argument("--seeds", help="comma-separated seeds overriding the profile's")
    c.add_argument("--mixed-precision", action="store_true",
                   help="the profile with precision: mixed_bfloat16 (bfloat16 compute, for "
                        "GPUs): runs of their own, with other ids than the float32 ones")
    c.add_argument("--xla", choices=("on", "off"),
                   help="override the profile's runtime.jit_compile: a speed choice that depends "
                        "on the host (recorded as 'xla' in metrics.json, not part of the spec)")
    c.add_argument("--only", action="append", metavar="LABEL=VALUE",
                   help="only the runs whose label has this value (repeat: all must hold), "
                        "e.g. --only series=decayed")
    c.add_argument("--no-wait", action="store_true",
                   help="leave runs that another process is training to it instead of waiting "
                        "for them at the end (two processes working through one campaign)")
    c.add_argument("--recompute", metavar="ID[,ID...]",
                   help="clear these runs first (e.g. ones reported corrupt), then compute")
    c.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: one run after another in this process (default); ray: each "
                        "run a Ray task, on $RAY_ADDRESS's cluster if set, else a local Ray")
    c.add_argument("--gpus-per-run", type=float, default=None,
                   help="Ray: GPUs per run (default 1 when the cluster has GPUs, else 0)")
    c.add_argument("--cpus-per-run", type=float, default=1, help="Ray: CPUs per run (default 1)")
    c.set_defaults(func=_cmd_compute)
    pl = sub.add_parser("plan", help="what computing a profile would cost: runs, epochs, "
                                     "FLOPs, time here and on a GPU")
    pl.add_argument("notebook", choices=[*experiments.names(), "all"])
    pl.add_argument("--profile", **profile)
    pl.add_argument("--tflops", type=float, default=None,
                    help="also estimate the time at this sustained training rate (TFLOP/s)")
    pl.add_argument("--totals", action="store_true", help="only the per-notebook totals")
    pl.add_argument("--xla", choices=("on", "off"),
                    help="time here from speeds measured with XLA on/off, as `compute --xla` "
                         "will train (default: whatever was measured)")
    pl.set_defaults(func=_cmd_plan)
    ck = sub.add_parser("check", help="build every distinct configuration of a profile and "
                                      "train a few steps of each on real data (temporary folder)")
    ck.add_argument("notebook", choices=experiments.names())
    ck.add_argument("--profile", **profile)
    ck.add_argument("--steps", type=int, default=3, help="timed training steps per configuration")
    ck.add_argument("--max-batch", type=int, default=None,
                    help="cap the batch size (a quicker start check; images/s then not stored)")
    ck.set_defaults(func=_cmd_check)
    ls = sub.add_parser("list", help="show cached runs")
    ls.add_argument("--profile", choices=profiles.PROFILES)
    ls.set_defaults(func=_cmd_list)
    ca = sub.add_parser("calibrate", help="budget calibration: images/s of each candidate "
                                          "configuration and accuracy per hour -> tables, figure")
    ca.add_argument("--profile", **{**profile, "default": "budget"})
    ca.add_argument("--batches", type=_positive, default=10, help="batches per timed round")
    ca.add_argument("--repeats", type=_positive, default=2, help="rounds")
    ca.set_defaults(func=_cmd_calibrate)
    be = sub.add_parser("bench", help="pipeline and training-step throughput against the "
                                      "article's way -> results/bench")
    be.add_argument("--width", type=_positive, default=64, help="cnn10 width (64 = the article's)")
    be.add_argument("--batch-size", type=_positive, default=128)
    be.add_argument("--batches", type=_positive, default=12, help="batches per measurement")
    be.add_argument("--repeats", type=_positive, default=4, help="rounds of every measurement")
    be.add_argument("--out", default=None, help="output folder (default results/bench)")
    be.set_defaults(func=_cmd_bench)
    rp = sub.add_parser("retire-prefixes", help="find the finished runs that are the first "
                        "epochs of a longer finished run, compare their histories, and with "
                        "--delete remove those that match bit for bit and those no profile "
                        "row reads any more")
    rp.add_argument("--profile", **profile)
    rp.add_argument("--delete", action="store_true")
    rp.set_defaults(func=_cmd_retire_prefixes)
    ix = sub.add_parser("index", help="write results/PROFILE/README.md (ledger, then the index)")
    ix.add_argument("--profile", **profile)
    ix.set_defaults(func=_cmd_index)
    cl = sub.add_parser("claims", help="the claims ledger from the finished runs (trains nothing) "
                                       "-> results/PROFILE/claims.{csv,md}")
    cl.add_argument("--profile", **profile)
    cl.add_argument("--readme", action="store_true",
                    help="also put its summary into README.md (between the ledger markers)")
    cl.set_defaults(func=_cmd_claims)
    nb = sub.add_parser("notebooks", help="print the notebooks that have PROFILE (for make)")
    nb.add_argument("--profile", default=None, choices=profiles.PROFILES)
    nb.set_defaults(func=lambda a: print(" ".join(
        n for n in profiles.notebooks() if a.profile is None or profiles.has_profile(n, a.profile)))
        or 0)
    pr = sub.add_parser("profiles", help="print the profiles, the default first")
    pr.set_defaults(func=lambda a: print(" ".join(
        [profiles.DEFAULT_PROFILE, *(p for p in profiles.PROFILES
                                     if p != profiles.DEFAULT_PROFILE)])) or 0)
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ParamError, FileNotFoundError, CorruptRunError, Locked) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

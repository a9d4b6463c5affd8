#!/usr/bin/env bash
# Train a profile's runs in priority order on one core: the decayed pairs of
# every headline claim first, then the long series, notebook by notebook.
# Start one per core; the run locks share the work between them, and
# --no-wait lets each go on to the next stage while the other finishes its
# last run. Runs are cached and resumable, so a stopped campaign picks up
# where it left off when started again.
#
#   nohup tools/campaign.sh 0 > campaign-0.log 2>&1 &
#   nohup tools/campaign.sh 1 > campaign-1.log 2>&1 &
#
# CORE pins the process (taskset); PROFILE (default budget) and XLA (on|off,
# default off) may be set. Which XLA setting is faster depends on the
# processor: much faster on some, slower on others: `make calibrate` measures both, and
# `python -m lib plan all --xla on|off` times a campaign with either.
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=${1:?usage: tools/campaign.sh CORE}
PROFILE=${PROFILE:-budget}
XLA=${XLA:-off}
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH=$PWD
# the offline CIFAR-10 copy kept beside the project, as the Makefile finds it
if [[ -z "${CIFAR10_PATH:-}" && -f ../shared/datasets/cifar10-jpeg.tar.gz ]]; then
  export CIFAR10_PATH=$(realpath ../shared/datasets/cifar10-jpeg.tar.gz)
fi
PY=${PY:-.venv/bin/python}
stages=(
  "bc_learning series=decayed"
  "resnet_ablation series=decayed"
  "natural_artificial_loss series=decayed"
  "training_tricks series=decayed"
  "mixup_baseline series=article budget=1"
  "bc_learning series=long"
  "resnet_ablation series=long"
  "natural_artificial_loss series=long"
  "mixup_baseline series=long"
  "training_tricks series=long"
)
for stage in "${stages[@]}"; do
  read -r notebook filters <<<"$stage"
  only=()
  for f in $filters; do only+=(--only "$f"); done
  echo "== $(date -u +%FT%TZ) core $CORE: $notebook ${filters}"
  taskset -c "$CORE" "$PY" -m lib compute "$notebook" --profile "$PROFILE" --xla "$XLA" \
    --no-wait "${only[@]}"
done
echo "== $(date -u +%FT%TZ) core $CORE: done"

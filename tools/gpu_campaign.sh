#!/usr/bin/env bash
# Train many small runs at once on one GPU, for a fixed time, and pack the runs
# that finished. A CIFAR-10 run of these widths keeps a modern GPU far below
# its capacity, so several `compute` processes share it: each takes the next
# unfinished run it can lock (--no-wait), and the GPU interleaves their steps.
#
#   SECONDS_LEFT=480 PARALLEL=12 bash tools/gpu_campaign.sh runs.tar \
#       "bc_learning 5 series=long" "resnet_ablation 6 series=long seed=1" ...
#
# Each stage is "NOTEBOOK PROCESSES [LABEL=VALUE ...]": that many processes of
# `python -m lib compute NOTEBOOK --only LABEL=VALUE ... --no-wait`, started in
# order while fewer than PARALLEL run. At SECONDS_LEFT every process still
# training is stopped (an unfinished run keeps its checkpoint/, which is not
# packed); the spec, history and metrics of every run finished meanwhile go
# into the tar file, whose paths are relative to the repository root. Run it
# through tools/on_device.sh on a machine without TensorFlow. PROFILE (default
# budget) and PY (default python3) may be set; logs go to $LOGS (default
# /tmp/gpu-campaign).
set -uo pipefail
cd "$(dirname "$0")/.."
TAR=${1:?usage: tools/gpu_campaign.sh OUT.tar "NOTEBOOK PROCESSES [LABEL=VALUE ...]" ...}
shift
PROFILE=${PROFILE:-budget}
PY=${PY:-python3}
PARALLEL=${PARALLEL:-8}
LOGS=${LOGS:-/tmp/gpu-campaign}
deadline=$(( $(date +%s) + ${SECONDS_LEFT:-480} ))
# several JAX processes on one GPU: none may take most of its memory up front
export XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p "$LOGS"
marker=$LOGS/started
touch "$marker"

stamp() { echo "== $(date -u +%T) $*"; }

# decode CIFAR-10 once, before the processes start (each would otherwise do it)
"$PY" -c "from lib.training.data import load_cifar10; load_cifar10()" || exit 1

running() { jobs -rp | wc -l; }   # the compute processes still training

n=0
for stage in "$@"; do
  read -r notebook count filters <<<"$stage"
  only=()
  for f in $filters; do only+=(--only "$f"); done
  for ((i = 1; i <= count; i++)); do
    while (( $(running) >= PARALLEL )) && (( $(date +%s) < deadline )); do sleep 2; done
    (( $(date +%s) >= deadline )) && break 2
    n=$((n + 1))
    log="$LOGS/$n-$notebook.log"
    stamp "start $n: $notebook $filters -> $log"
    "$PY" -m lib compute "$notebook" --profile "$PROFILE" --no-wait "${only[@]}" >"$log" 2>&1 &
    sleep 3   # let it take its run's lock before the next one looks
  done
done

while (( $(running) > 0 )) && (( $(date +%s) < deadline )); do sleep 5; done
if (( $(running) > 0 )); then
  stamp "time is up: stopping $(running) processes (their runs keep checkpoints, not packed)"
  kill $(jobs -rp) 2>/dev/null
  wait
fi

finished=()
for m in $(find "${ABLATION_RESULTS_DIR:-results}/$PROFILE/runs" -name metrics.json -newer "$marker"); do
  d=$(dirname "$m")
  finished+=("$d/spec.json" "$d/history.csv" "$d/metrics.json")
done
stamp "finished runs: $(( ${#finished[@]} / 3 ))"
if (( ${#finished[@]} )); then tar -cf "$TAR" "${finished[@]}"; fi
for f in "$LOGS"/*.log; do echo "--- $f"; tail -n 3 "$f"; done

#!/usr/bin/env bash
# Copy the finished run directories of a campaign run from another checkout
# (e.g. a git worktree at a fixed commit) into this one's results, never
# checkpoints or locks: FROM is the other checkout's root.
#
#   tools/collect_runs.sh ../campaign [budget]
set -euo pipefail
cd "$(dirname "$0")/.."
FROM=${1:?usage: tools/collect_runs.sh FROM [PROFILE]}
PROFILE=${2:-budget}
n=0
for d in "$FROM/results/$PROFILE/runs"/*/; do
  id=$(basename "$d")
  [[ -f "$d/metrics.json" && ! -f "results/$PROFILE/runs/$id/metrics.json" ]] || continue
  mkdir -p "results/$PROFILE/runs/$id"
  cp "$d/spec.json" "$d/history.csv" "$d/metrics.json" "results/$PROFILE/runs/$id/"
  n=$((n + 1))
done
echo "collected $n finished run(s) into results/$PROFILE/runs"

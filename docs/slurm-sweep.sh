#!/usr/bin/env bash
# Runs a Noether sweep as a Slurm job array, one shard per array task, then merges the shards in a job that
# starts only when every task succeeded. See docs/sharding.md.
#
#   bash docs/slurm-sweep.sh                  # on the login node: builds noether once, submits the array and the merge
#   SWEEP="xavier --draws 1000" OUT=results/xavier bash docs/slurm-sweep.sh
#
# To try it on one machine: scripts/slurm-local.sh start (a real single-node Slurm), export the SLURM_CONF it prints,
# run this script, scripts/slurm-local.sh stop. CI does so for six sweeps: scripts/slurm-sweep-check.sh.
#
# The number of shards is the size of the array below (--array=1-N: it must start at 1 with step 1; N at most the
# sweep's grid size: drift 16, xavier 7, orbit 27, sharpness 24, `converge --part rate` 36,
# ensemble 45, attack 10 items with their default settings; `curvature --model` one item per batch, e.g. 32 for
# --images 4096 --batch-size 128: each shard computes its batches' Hutchinson table, the merge the trace and per-layer
# traces of the whole set). Change it here or override it
# on the command line of the submission: SBATCH_ARRAY_INX=1-4 bash docs/slurm-sweep.sh.
#
#SBATCH --job-name=noether-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=04:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NOETHER=${NOETHER:-$REPO/noether}       # or: NOETHER="dotnet /path/to/Noether.Cli.dll"
SWEEP=${SWEEP:-drift --profile full}    # the sweep command and its options (the same for every shard)
OUT=${OUT:-results/drift}               # the merged result; the shards go to $OUT.shards/1 … $OUT.shards/N
OUT=$(realpath -m "$OUT")

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  # Submission (not inside an array task). Build once here, so that the N tasks do not all try to build at once.
  $NOETHER --help > /dev/null
  mkdir -p "$OUT.shards"
  export REPO NOETHER SWEEP OUT
  array=$(sbatch --parsable --export=ALL "${BASH_SOURCE[0]}")
  array=${array%%;*}                    # "jobid;cluster" on multi-cluster sites
  # Without SBATCH_ARRAY_INX: sbatch reads it for every job it submits, and the merge must be one job, not an
  # array of merges writing the same folder at once.
  merge=$(env -u SBATCH_ARRAY_INX sbatch --parsable --export=ALL --dependency=afterok:"$array" --job-name=noether-merge \
    --cpus-per-task=2 --mem=1G --time=00:30:00 --output="slurm-noether-merge-%j.out" \
    --wrap "$NOETHER merge $OUT.shards/* --out $OUT --force")
  echo "submitted shards as array job $array and the merge as job $merge (runs after every shard succeeded); result: $OUT"
  exit 0
fi

# One array task: shard i of n (n = the number of tasks in the array, or $SHARDS when one task is rerun alone:
# SHARDS=8 sbatch --array=3 --export=ALL docs/slurm-sweep.sh).
SHARDS=${SHARDS:-$SLURM_ARRAY_TASK_COUNT}
# shellcheck disable=SC2086  # $SWEEP is a command line: word splitting wanted
$NOETHER $SWEEP --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" --out "$OUT.shards/${SLURM_ARRAY_TASK_ID}" --force

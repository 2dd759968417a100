#!/usr/bin/env bash
# CI's Slurm check: starts a single-node Slurm cluster (scripts/slurm-local.sh), runs each sharded sweep (drift,
# xavier, orbit, sharpness, ensemble, attack; small settings) as a job array through docs/slurm-sweep.sh, whose merge
# job runs `noether merge`, and checks that every merged folder equals an unsharded run of the same sweep byte for
# byte: the same files, each CSV and PNG identical, summary.json identical once its time fields are set aside
# (see `comparable` below). Stops the cluster at the end, also on failure. Run as root (slurmd), from any folder:
#
#   scripts/slurm-sweep-check.sh [WORK_DIR]      # default: a new /tmp/noether-slurm-check.XXXXXX
#
# Exit 0 when every sweep matched; the last line says how many did.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(realpath -m "${1:-$(mktemp -d /tmp/noether-slurm-check.XXXXXX)}")
mkdir -p "$work/logs"
cli="$repo/src/Noether.Cli/bin/Release/net10.0/Noether.Cli.dll"
noether() { dotnet "$cli" "$@"; }
[[ $(id -u) -eq 0 ]] || { echo "slurm-sweep-check: run as root (the local cluster's slurmd runs as root)" >&2; exit 1; }
[[ -f "$cli" ]] || dotnet build "$repo/src/Noether.Cli" -c Release -v quiet --nologo -clp:NoSummary
started=$SECONDS

export SLURM_LOCAL_DIR=${SLURM_LOCAL_DIR:-/tmp/noether-slurm}
"$repo/scripts/slurm-local.sh" start
trap '"$repo/scripts/slurm-local.sh" stop' EXIT
export SLURM_CONF=$SLURM_LOCAL_DIR/slurm.conf

# A tiny CIFAR-10 folder (the binary batch format: label byte + 3072 pixel bytes per record, 20 records per file;
# random pixels from a fixed seed) for ensemble and attack, as MergeCommandTests makes one.
python3 - "$work/cifar" <<'EOF'
import os, random, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True); rng = random.Random(5)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    with open(os.path.join(d, name), "wb") as f:
        for i in range(20):
            f.write(bytes([i % 10]) + rng.randbytes(3072))
EOF

# name, shards, the sweep's command line (the settings of MergeCommandTests: each sweep takes seconds).
sweeps=(
  "drift 3 drift --profile quick --steps 400 --records 30 --seed 4"
  "xavier 2 xavier --draws 300 --shapes 20x10x30,10x20x10 --integral-shape 20x20x20 --activations relu,tanh,sigmoid --seed 3 --bins 25"
  "orbit 2 orbit --shapes 3x2x4,2x7x3,4x4x4 --seed 2"
  "sharpness 2 sharpness --profile quick --seed 1"
  "ensemble 2 ensemble --data cifar10 --data-dir $work/cifar --profile quick --members 2 --epsilons 0,1,3 --builders group,ginv,random --seed 2"
  "attack 3 attack --data cifar10 --data-dir $work/cifar --profile quick --members 2 --epsilons 0,8/255 --pgd-steps 2 --builders group,random --seed 3"
)

# 1. Submit every sweep: docs/slurm-sweep.sh submits the array (one shard per task) and the merge (afterok).
declare -A array_job merge_job
cd "$work/logs"   # the jobs' slurm-*.out files
for line in "${sweeps[@]}"; do
  read -r name shards sweep <<<"$line"
  said=$(SBATCH_ARRAY_INX="1-$shards" SWEEP="$sweep" OUT="$work/$name" NOETHER="dotnet $cli" bash "$repo/docs/slurm-sweep.sh")
  echo "$name: $said"
  [[ "$said" =~ array\ job\ ([0-9]+)\ and\ the\ merge\ as\ job\ ([0-9]+) ]] || { echo "slurm-sweep-check: cannot read the job ids from: $said" >&2; exit 1; }
  array_job[$name]=${BASH_REMATCH[1]}
  merge_job[$name]=${BASH_REMATCH[2]}
done
squeue

# 2. Meanwhile, the unsharded runs (outside Slurm, on the same cores).
for line in "${sweeps[@]}"; do
  read -r name shards sweep <<<"$line"
  # shellcheck disable=SC2086  # $sweep is a command line
  noether $sweep --out "$work/unsharded/$name" > "$work/logs/unsharded-$name.out"
done
echo "unsharded runs done after $((SECONDS - started)) s"

# 3. Wait until none of the jobs is pending or running (a failed shard cancels its merge:
# DependencyParameters=kill_invalid_depend in slurm-local.sh's slurm.conf).
jobs=$(IFS=,; echo "${array_job[*]},${merge_job[*]}")
deadline=$((SECONDS + 900))
while :; do
  if left=$(squeue -h -t PD,R,CG,CF -j "$jobs" -o %i 2>/dev/null); then [[ -n "$left" ]] || break; fi
  ((SECONDS < deadline)) || { echo "slurm-sweep-check: timed out waiting for the jobs" >&2; squeue >&2; exit 1; }
  sleep 1
done
echo "every Slurm job ended after $((SECONDS - started)) s"

# summary.json without its time fields: "seconds" and "wallSeconds" (every command; a merge's wallSeconds is the
# sum of its shards'), "hessianSeconds" (sharpness), "experimentSeconds" (ensemble, attack), "partSeconds"
# (converge), sharpness's "(speed)" claim (a measured time), and the merge's own note "merged" (which shards).
# Prints the rest (sorted keys, indented); appends the names of the fields it set aside to the file $2.
comparable() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
TIME_KEYS = {"seconds", "wallSeconds", "hessianSeconds", "partSeconds", "experimentSeconds", "merged"}
removed = set()
def strip(n):
    if isinstance(n, dict):
        for k in list(n):
            if k in TIME_KEYS:
                del n[k]
                removed.add(k)
        if isinstance(n.get("claims"), list):
            kept = [c for c in n["claims"] if not str(c.get("statement", "")).startswith("(speed)")]
            if len(kept) < len(n["claims"]): removed.add("(speed) claim")
            n["claims"] = kept
        for v in n.values(): strip(v)
    elif isinstance(n, list):
        for v in n: strip(v)
    return n
print(json.dumps(strip(json.load(open(sys.argv[1], encoding="utf-8"))), sort_keys=True, indent=1))
with open(sys.argv[2], "a", encoding="utf-8") as f: f.write("\n".join(sorted(removed)) + "\n")
EOF
}

# 4. Compare each merged folder with its unsharded run.
ok=0 bad=0
for line in "${sweeps[@]}"; do
  read -r name shards sweep <<<"$line"
  merged=$work/$name whole=$work/unsharded/$name problems=()
  for j in "${array_job[$name]}" "${merge_job[$name]}"; do
    for t in $(scontrol show job -o "$j" 2>/dev/null | grep -oE 'JobId=[0-9]+ .*JobState=[A-Z_]+' | sed -E 's/JobId=([0-9]+).*JobState=([A-Z_]+)/\1:\2/'); do
      [[ "$t" == *:COMPLETED ]] || problems+=("job $t")
    done
  done
  # The unsharded run caches its trained model (model.safetensors, ensemble and attack); the merged folder holds
  # results only, so the model is compared with every shard's copy instead.
  mapfile -t whole_files < <(cd "$whole" && find . -type f ! -name model.safetensors | sort)
  mapfile -t merged_files < <(cd "$merged" 2>/dev/null && find . -type f | sort)
  [[ "${whole_files[*]}" == "${merged_files[*]}" ]] || problems+=("files differ: unsharded {${whole_files[*]}} vs merged {${merged_files[*]}}")
  identical=()
  for f in "${whole_files[@]}"; do
    [[ -f "$merged/$f" ]] || continue
    if [[ "$f" == ./summary.json ]]; then
      aside=$work/logs/$name-set-aside.txt
      : > "$aside"
      comparable "$whole/$f" "$aside" > "$work/logs/$name-unsharded-summary.json"
      comparable "$merged/$f" "$aside" > "$work/logs/$name-merged-summary.json"
      if cmp -s "$work/logs/$name-unsharded-summary.json" "$work/logs/$name-merged-summary.json"; then
        identical+=("summary.json (set aside: $(grep . "$aside" | sort -u | paste -sd, -))")
      else problems+=("summary.json differs beyond its time fields: diff $work/logs/$name-{unsharded,merged}-summary.json"); fi
    elif cmp -s "$whole/$f" "$merged/$f"; then identical+=("${f#./}")
    else problems+=("${f#./} differs"); fi
  done
  if [[ -f "$whole/model.safetensors" ]]; then
    for i in $(seq 1 "$shards"); do
      cmp -s "$whole/model.safetensors" "$work/$name.shards/$i/model.safetensors" || problems+=("shard $i's model.safetensors differs")
    done
    identical+=("model.safetensors = each shard's")
  fi
  if ((${#problems[@]})); then
    bad=$((bad + 1))
    echo "FAIL $name: ${problems[*]}"
    tail -n 5 "$work"/logs/slurm-*"${array_job[$name]}"*.out "$work"/logs/slurm-noether-merge-"${merge_job[$name]}".out 2>/dev/null || true
  else
    ok=$((ok + 1))
    echo "ok   $name: $shards shards (array job ${array_job[$name]}, merge job ${merge_job[$name]}) = unsharded: ${identical[*]}"
  fi
done
echo "slurm sweep check: $ok of ${#sweeps[@]} sweeps merged equal to the unsharded run, $bad differ ($((SECONDS - started)) s; work folder $work)"
((bad == 0))

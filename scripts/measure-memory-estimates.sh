#!/usr/bin/env bash
# Peak memory against MemoryEstimate for the count options' worst cases (issue 16: peak ≤ 1.25 × estimate).
# Each case runs the built CLI under /usr/bin/time -v (peak = "Maximum resident set size"); its estimate comes from
# Noether.Experiments.MemoryEstimate, called by a throw-away console project referencing src/Noether.
#   scripts/measure-memory-estimates.sh [--quick] [--estimates-only] [CASE-REGEX]
# --quick runs only cases peaking below ~1 GB; --estimates-only prints the estimates and runs nothing. Needs Fashion-MNIST (NOETHER_FASHION_MNIST or the Debian folder), a
# trained SPEC CNN in $MODEL (default /tmp/memory-model.safetensors; made with `noether train --epochs 1` if missing)
# and `dotnet build src/Noether.Cli -c Release` done. Peaks are not timing-sensitive; the machine may be busy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/src/Noether.Cli/bin/Release/net10.0/Noether.Cli.dll"
quick=0; only=0; filter=""
for a in "$@"; do case "$a" in --quick) quick=1 ;; --estimates-only) only=1 ;; *) filter="$a" ;; esac; done
[[ -f "$cli" ]] || { echo "build first: dotnet build $root/src/Noether.Cli -c Release" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d /tmp/noether-memory.XXXXXX)
trap 'rm -rf "$work"' EXIT
MODEL=${MODEL:-/tmp/memory-model.safetensors}
if [[ ! -f "$MODEL" ]]; then
  dotnet "$cli" train --epochs 1 --out "$work/model" >/dev/null
  MODEL="$work/model/model.safetensors"
fi

# The estimator: prints MemoryEstimate.<Workload>(args).Bytes and its breakdown.
mkdir -p "$work/est"
cat > "$work/est/est.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><ProjectReference Include="$root/src/Noether/Noether.csproj" /></ItemGroup>
</Project>
XML
cat > "$work/est/Program.cs" <<'CS'
using Noether.Experiments;
static int I(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
var a = args;
MemoryNeed need = a[0] switch
{
    // train DATASET CHANNELS HIDDEN BATCH TRAINLIMIT(0 = all)
    "train" => MemoryEstimate.CnnTraining(new CnnTrainingSettings(a[1], Channels: I(a[2]), Hidden: I(a[3]), BatchSize: I(a[4]), TrainLimit: I(a[5]) == 0 ? null : I(a[5]))),
    // ensemble MEMBERS HIDDEN CHANNELS CLASSES DATASET TESTIMAGES K
    "ensemble" => MemoryEstimate.Ensemble(I(a[1]), I(a[2]), I(a[3]), I(a[4]), a[5], I(a[6]), I(a[7])),
    // sharpness PARAMETERS ACTIVATIONS DATASET SAMPLES TOPK PROBES DPROBES DSTEPS
    "sharpness" => MemoryEstimate.Sharpness(long.Parse(a[1]), long.Parse(a[2]), a[3], I(a[4]), new SharpnessEstimateSettings(TopK: I(a[5]), TraceProbes: I(a[6]), DensityProbes: I(a[7]), DensitySteps: I(a[8]))),
    // analyze PARAMETERS ACTIVATIONS DATASET SAMPLES PROBES LANCZOS
    "analyze" => MemoryEstimate.Analyze(long.Parse(a[1]), long.Parse(a[2]), a[3], I(a[4]), I(a[5]), I(a[6])),
    // graph-train MODEL.onnx FLOAT64(0|1) BATCH OPTIMIZER MOMENTUM MONITOR(0|1) DATASET TRAINLIMIT(0 = all): train --model on a built-in data set
    "graph-train" => GraphTraining(a),
    // curvature MODEL.onnx IMAGES BATCH TOPK: curvature --model over all its parameters
    "curvature" => Curvature(a),
    // census MODEL.onnx BATCH DISCOVER(0|1): symmetries --model (BatchNorm as the model says; discovery's default limits)
    "census" => Census(a),
    _ => throw new ArgumentException($"unknown workload {a[0]}"),
};
Console.WriteLine($"{need.Bytes / (1 << 20):F0}\t{need.Breakdown}");

// As TrainModelCommand.Load: the recorded values of the batch-statistics graph, the data set as loaded.
static MemoryNeed GraphTraining(string[] a)
{
    var onnx = Noether.Interop.OnnxModel.Load(a[1]);
    bool f64 = a[2] == "1";
    var options = new Noether.Graphs.GraphOptions { BatchNorm = Noether.Graphs.BatchNormMode.Training };
    var (values, parameters) = f64 ? Values(onnx.ToGraph<double>(options)) : Values(onnx.ToGraph<float>(options));
    int limit = I(a[8]);
    var settings = new GraphTrainingSettings(a[4], BatchSize: I(a[3]), Momentum: double.Parse(a[5], System.Globalization.CultureInfo.InvariantCulture));
    int train = a[7] == "cifar10" ? 50_000 : 60_000;
    return MemoryEstimate.GraphTraining(settings, parameters, values, f64, a[6] == "1", limit == 0 ? train : Math.Min(limit, train),
        MemoryEstimate.ImageData(a[7], limit == 0 ? null : limit));
}

// As CurvatureCommand: the inference-mode float64 graph on 1×28×28 images.
static MemoryNeed Curvature(string[] a)
{
    var graph = Noether.Interop.OnnxModel.Load(a[1]).ToGraph<double>(new Noether.Graphs.GraphOptions { BatchNorm = Noether.Graphs.BatchNormMode.Inference });
    long n = graph.Parameters.Sum(p => (long)p.Length);
    return MemoryEstimate.Curvature(n, MemoryEstimate.RecordedValues(graph, [1, 28, 28]), n, I(a[2]), I(a[3]), I(a[4]));
}

// As SymmetriesCommand.CheckMemory: the float64 graph as the model says, its census and the families discovery will check.
static MemoryNeed Census(string[] a)
{
    var graph = Noether.Interop.OnnxModel.Load(a[1]).ToGraph<double>(new Noether.Graphs.GraphOptions());
    return MemoryEstimate.Census(graph, Noether.Symmetry.Census.SymmetryCensus.Take(graph), I(a[2]),
        a[3] == "1" ? new Noether.Symmetry.Census.DiscoveryOptions() : null)!;
}

static ((long, long), long) Values<T>(Noether.Graphs.Graph<T> graph) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
    (MemoryEstimate.RecordedValues(graph, [1, 28, 28]), graph.Parameters.Sum(p => (long)p.Length));
CS
( cd "$work/est" && dotnet build -c Release -v quiet -o "$work/est/bin" >/dev/null ) || { echo "estimator build failed" >&2; exit 1; }
est() { dotnet "$work/est/bin/est.dll" "$@"; }

# The SPEC CNN of $MODEL: h from the hidden bias, channels from the conv bias (train's default model: 16, 32).
read -r hidden channels params < <(python3 - "$MODEL" <<'PY'
import json, struct, sys
with open(sys.argv[1], 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n))
shape = {k: v['shape'] for k, v in h.items() if k != '__metadata__'}
p = 1
total = sum(__import__('math').prod(s) for s in shape.values())
print(shape['3.bias'][0], shape['0.bias'][0], total)
PY
)
act=$((channels * 28 * 28))

printf '%-58s %12s %10s %7s\n' case estimate_MiB peak_MiB ratio
run() { # NAME "ESTIMATE ARGS" CLI ARGS...
  local name=$1 estargs=$2; shift 2
  [[ -n "$filter" && ! "$name" =~ $filter ]] && return 0
  local line e peak
  line=$(est $estargs); e=${line%%$'\t'*}
  if [[ $only == 1 ]]; then printf '%-58s %12s\n' "$name" "$e"; [[ -n "${VERBOSE:-}" ]] && echo "    ${line#*$'\t'}"; return 0; fi
  # CAP=SECONDS: interrupt the run (SIGINT, a clean cancel) after that long; its peak so far is reported, marked "(capped)".
  local code=0 stop=()
  [[ -n "${CAP:-}" ]] && stop=(timeout --preserve-status -s INT "$CAP")
  /usr/bin/time -v "${stop[@]}" dotnet "$cli" "$@" --out "$work/out" --force >"$work/log" 2>&1 || code=$?
  if [[ $code != 0 && ! ( -n "${CAP:-}" && $code == 130 ) ]]; then echo "$name: the run failed:"; tail -5 "$work/log"; return 0; fi
  [[ $code == 130 ]] && name="$name (capped ${CAP}s)"
  peak=$(( $(awk '/Maximum resident set size/ {print $NF}' "$work/log") / 1024 ))
  printf '%-58s %12s %10s %7.2f\n' "$name" "$e" "$peak" "$(echo "$peak / $e" | bc -l)"
  [[ -n "${VERBOSE:-}" ]] && echo "    ${line#*$'\t'}"
  return 0
}
big() { [[ $quick == 0 ]]; }

run "train --hidden 256 (1280 images)" "train fashion-mnist 16 256 128 1280" train --hidden 256 --epochs 1 --train-limit 1280
run "train --hidden 4096 (1280 images)" "train fashion-mnist 16 4096 128 1280" train --hidden 4096 --epochs 1 --train-limit 1280
big && run "train --hidden 4096 (12800 images)" "train fashion-mnist 16 4096 128 12800" train --hidden 4096 --epochs 1 --train-limit 12800
big && run "train --hidden 8192 (1280 images)" "train fashion-mnist 16 8192 128 1280" train --hidden 8192 --epochs 1 --train-limit 1280
big && run "train --hidden 4096 (one epoch, 60000 images)" "train fashion-mnist 16 4096 128 0" train --hidden 4096 --epochs 1
run "train --channels 64 (1280 images)" "train fashion-mnist 64 32 128 1280" train --channels 64 --hidden 32 --epochs 1 --train-limit 1280
big && run "train --channels 256 (1280 images)" "train fashion-mnist 256 32 128 1280" train --channels 256 --hidden 32 --epochs 1 --train-limit 1280
run "ensemble --members 100" "ensemble 100 $hidden $channels 10 fashion-mnist 1000 $hidden" ensemble --weights "$MODEL" --members 100 --builders group --epsilons 0.1 --test-limit 1000
run "ensemble --members 2000" "ensemble 2000 $hidden $channels 10 fashion-mnist 1000 $hidden" ensemble --weights "$MODEL" --members 2000 --builders group --epsilons 0.1 --test-limit 1000
big && run "ensemble --members 5000" "ensemble 5000 $hidden $channels 10 fashion-mnist 1000 $hidden" ensemble --weights "$MODEL" --members 5000 --builders group --epsilons 0.1 --test-limit 1000
big && run "ensemble --members 5000 --builders ginv" "ensemble 5000 $hidden $channels 10 fashion-mnist 1000 $hidden" ensemble --weights "$MODEL" --members 5000 --builders ginv --epsilons 0.1 --test-limit 1000
big && run "ensemble --members 20000" "ensemble 20000 $hidden $channels 10 fashion-mnist 1000 $hidden" ensemble --weights "$MODEL" --members 20000 --builders group --epsilons 0.1 --test-limit 1000
run "sharpness --samples 128" "sharpness $params $act fashion-mnist 128 1 16 1 10" sharpness --weights "$MODEL" --samples 128 --top-k 1 --probes 16 --density-probes 1 --density-steps 10
big && run "sharpness --samples 1024" "sharpness $params $act fashion-mnist 1024 1 16 1 10" sharpness --weights "$MODEL" --samples 1024 --top-k 1 --probes 16 --density-probes 1 --density-steps 10
big && run "sharpness --samples 4096" "sharpness $params $act fashion-mnist 4096 1 16 1 10" sharpness --weights "$MODEL" --samples 4096 --top-k 1 --probes 16 --density-probes 1 --density-steps 10
big && run "sharpness --top-k 20" "sharpness $params $act fashion-mnist 128 20 16 1 10" sharpness --weights "$MODEL" --samples 128 --top-k 20 --probes 16 --density-probes 1 --density-steps 10
big && run "sharpness --top-k 100" "sharpness $params $act fashion-mnist 128 100 16 1 10" sharpness --weights "$MODEL" --samples 128 --top-k 100 --probes 16 --density-probes 1 --density-steps 10
big && run "sharpness --density-steps 400" "sharpness $params $act fashion-mnist 128 1 16 1 400" sharpness --weights "$MODEL" --samples 128 --top-k 1 --probes 16 --density-probes 1 --density-steps 400
big && run "sharpness --density-steps 1500" "sharpness $params $act fashion-mnist 128 1 16 1 1500" sharpness --weights "$MODEL" --samples 128 --top-k 1 --probes 16 --density-probes 1 --density-steps 1500
run "analyze --trace-probes 32" "analyze $params $act fashion-mnist 256 32 0" analyze --weights "$MODEL" --arch spec-cnn --samples 256 --trace-probes 32
big && run "analyze --trace-probes 2000" "analyze $params $act fashion-mnist 256 2000 0" analyze --weights "$MODEL" --arch spec-cnn --samples 256 --trace-probes 2000

# Imported ONNX models (tests/fixtures/onnx): the recorded values of a batch dominate. train --model: one epoch on
# --train-limit images (the test split is evaluated after it, in batches of the same size); curvature --model: the
# Hessian of one batch (few probes, no density; CAP stops long Lanczos runs once the peak has been reached).
onnx="$root/tests/fixtures/onnx"
tm() { # NAME MODEL FLOAT64 BATCH OPTIMIZER MOMENTUM MONITOR LIMIT [CLI ARGS...]
  local name=$1 model=$2 f64=$3 batch=$4 opt=$5 mom=$6 mon=$7 limit=$8; shift 8
  local extra=(--optimizer "$opt")
  [[ $f64 == 1 ]] && extra+=(--float64)
  [[ $mon == 1 ]] && extra+=(--monitor 1)
  [[ $mom != 0 ]] && extra+=(--momentum "$mom")
  run "$name" "graph-train $onnx/$model $f64 $batch $opt $mom $mon fashion-mnist $limit" train --model "$onnx/$model" --epochs 1 --batch-size "$batch" --train-limit "$limit" "${extra[@]}" "$@"
}
tm "train --model resnet20 --batch-size 32" resnet20.onnx 0 32 sgd 0 0 64
tm "train --model resnet20 --batch-size 128" resnet20.onnx 0 128 sgd 0 0 256
big && tm "train --model resnet20 --batch-size 512" resnet20.onnx 0 512 sgd 0 0 1024
big && tm "train --model resnet20 --batch-size 1024 --optimizer adam" resnet20.onnx 0 1024 adam 0 0 1024
big && tm "train --model resnet20 --batch-size 256 --float64" resnet20.onnx 1 256 sgd 0 0 512
big && tm "train --model resnet20 --batch-size 128 --monitor 1 --momentum 0.9" resnet20.onnx 0 128 sgd 0.9 1 256
tm "train --model transformer --batch-size 128" transformer.onnx 0 128 adamw 0 0 256
big && tm "train --model transformer --batch-size 2048" transformer.onnx 0 2048 adamw 0 0 4096
tm "train --model mlp --batch-size 4096" mlp.onnx 0 4096 sgd 0 0 8192
cv() { # NAME MODEL BATCH
  CAP=${CAP:-} run "$1" "curvature $onnx/$2 $3 $3 1" curvature --model "$onnx/$2" --images "$3" --batch-size "$3" --top-k 1 --probes 2 --density-probes 0 --single-batches 0
}
cv "curvature --model mlp --batch-size 4096" mlp.onnx 4096
CAP=${CAP:-240} cv "curvature --model resnet20 --batch-size 32" resnet20.onnx 32
big && CAP=${CAP:-240} cv "curvature --model resnet20 --batch-size 128" resnet20.onnx 128
big && CAP=${CAP:-300} cv "curvature --model resnet20 --batch-size 512" resnet20.onnx 512
# symmetries --model: the census verified on a batch (--batch), with --discover its completeness check (an upper bound).
sy() { # NAME MODEL BATCH DISCOVER [CLI ARGS...]
  local name=$1 model=$2 batch=$3 disc=$4; shift 4
  local extra=(); [[ $disc == 1 ]] && extra+=(--discover)
  run "$name" "census $onnx/$model $batch $disc" symmetries --model "$onnx/$model" --batch "$batch" "${extra[@]}" "$@"
}
sy "symmetries --model resnet20 --batch 64" resnet20.onnx 64 0
big && sy "symmetries --model resnet20 --batch 256" resnet20.onnx 256 0
sy "symmetries --model transformer --batch 8" transformer.onnx 8 0
sy "symmetries --model transformer --batch 256" transformer.onnx 256 0
sy "symmetries --model mlp --discover" mlp.onnx 8 1
sy "symmetries --model transformer --discover" transformer.onnx 8 1
exit 0

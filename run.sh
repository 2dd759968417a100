#!/usr/bin/env bash
# Fresh machine → report: installs what is missing (Debian packages when root: what `noether` and the tests need),
# restores and builds, finds the Fashion-MNIST dataset, runs `noether reproduce` (every experiment of the paper) and prints where report.html is.
# Usage: ./run.sh [reproduce options, e.g. --profile quick | --profile full | --only drift,xavier | --out DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

as_root() { [[ $(id -u) -eq 0 ]]; }
install_debian() { # packages…
  echo "run.sh: installing $* …"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# 1. Debian packages (installed when missing and run as root; otherwise the command to run is printed):
#    libopenblas0-pthread — BLAS/LAPACK (Noether falls back to managed kernels without it, but the default profile's
#      times assume it); chromium — the report tests render report.html headless; python3 — the tests' independent
#      safetensors writer; libonnx-testdata — the ONNX conformance tests' models and data.
# "install ok installed" only: a removed package keeps its config files and still satisfies `dpkg -s`.
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }
missing=()
for pkg in libopenblas0-pthread chromium python3 libonnx-testdata; do installed "$pkg" || missing+=("$pkg"); done
if ((${#missing[@]})); then
  if as_root; then install_debian "${missing[@]}"
  else echo "run.sh: missing Debian packages: ${missing[*]} (Noether uses its slower managed kernels without libopenblas0-pthread; the tests need the others); install: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2; fi
fi

# 2. The dataset: $NOETHER_FASHION_MNIST if set, else Debian's package folder; installed from Debian when missing.
data="${NOETHER_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
if [[ -f "$data/train-images-idx3-ubyte.gz" || -f "$data/train-images-idx3-ubyte" ]]; then
  echo "run.sh: Fashion-MNIST found in $data"
elif [[ -n "${NOETHER_FASHION_MNIST:-}" ]]; then
  echo "run.sh: NOETHER_FASHION_MNIST=$data has no train-images-idx3-ubyte(.gz); unset it to use Debian's dataset-fashion-mnist" >&2
  exit 1
elif as_root; then
  install_debian dataset-fashion-mnist
else
  echo "run.sh: Fashion-MNIST not found in $data" >&2
  echo "install it with: sudo apt-get install -y dataset-fashion-mnist   (or set NOETHER_FASHION_MNIST to a folder with the IDX files)" >&2
  exit 1
fi

# 3. The .NET 10 SDK, restore and build.
if ! command -v dotnet >/dev/null 2>&1; then
  echo "run.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore src/Noether.Cli --nologo -v quiet
dotnet build src/Noether.Cli -c Release --no-restore --nologo -v quiet -clp:NoSummary

# 4. Every experiment, into one report (the default profile unless the arguments name one).
args=("$@")
[[ " ${args[*]-} " == *" --profile "* ]] || args=(--profile default "${args[@]}")
[[ " ${args[*]-} " == *" --out "* ]] || args+=(--out results/reproduce)
set +e
dotnet src/Noether.Cli/bin/Release/net10.0/Noether.Cli.dll reproduce --force "${args[@]}"
status=$?
set -e
out=results/reproduce
for ((i = 0; i < ${#args[@]}; i++)); do [[ "${args[i]}" == --out ]] && out="${args[i+1]}"; done
if [[ -f "$out/report.html" ]]; then
  echo "open the report: file://$(cd "$out" && pwd)/report.html"
fi
exit "$status"

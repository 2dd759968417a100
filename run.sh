#!/usr/bin/env bash
# Fresh machine → results: installs what is missing (Debian packages when root), builds, runs the main job.
# Usage: ./run.sh [extra arguments for the main job]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

packages=(libopenblas0-pthread dataset-fashion-mnist)
missing=()
for pkg in "${packages[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing ${missing[*]} …"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "run.sh: missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "run.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2
  exit 1
fi

# The main job. (`noether reproduce` takes this place once every experiment has a command.)
out=results/train
./noether train --out "$out" --force "$@"
echo "results: $(pwd)/$out"

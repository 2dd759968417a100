#!/usr/bin/env bash
# Noether vs PyTorch: builds the comparison runner (Release) and runs it; options are passed through
# (see --help). Results: <repo>/out/compare/results.{json,md} unless --out DIR.
# Exit 0 whatever the ratios (benchmarks are not gates); 2 if python3/torch is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! log="$(dotnet build "$root/bench/Noether.Compare/Noether.Compare.csproj" -c Release -v quiet -nologo 2>&1)"; then
  printf '%s\n' "$log" >&2
  echo "error: building bench/Noether.Compare failed" >&2
  exit 1
fi
exec dotnet "$root/bench/Noether.Compare/bin/Release/net10.0/Noether.Compare.dll" --scripts "$root/bench/compare" "$@"

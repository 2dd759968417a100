#!/usr/bin/env python3
"""Are two `noether reproduce` results the same? (the check that a refactoring changed no result)

  scripts/compare-results.py OLD NEW            compare two result folders (or a stored reference and a result)
  scripts/compare-results.py --store REF RUN    write RUN's comparable content into REF (a stored reference)

Compared: every CSV byte for byte (after dropping the `seconds` column, wall-clock time) and every summary.json
after removing what a re-run changes by itself: times (wallSeconds, experimentSeconds, partSeconds, seconds,
hessianSeconds, "… 3.2 s", "68.9 ms per …"), dates, the machine, memory, and the run's staging-folder path. Safetensors
files are compared byte for byte when both sides have them (a stored reference keeps none). PNGs are not compared
(their pixels follow the CSVs and captions, which are).

The stored reference tests/reference/reproduce-quick was made with the BLAS and SIMD kernels pinned, so that any x86-64
machine with AVX2 computes the same bits (OpenBLAS picks its kernels by CPU, .NET its vector width: a Sandybridge or
Cooperlake kernel moves condition numbers by 1e-5 relative and sub-noise eigenvalues completely):
  OPENBLAS_CORETYPE=Haswell DOTNET_EnableAVX512F=0 noether reproduce --profile quick --out RUN

--tolerance R (default 0) lets numbers in CSV cells and JSON values differ by a relative R; the verdict line says
whether the two were byte-identical or only within R. Exit 0 when equal, 1 when not, 2 on bad input.
"""
import argparse
import csv
import io
import json
import math
import os
import re
import shutil
import sys

TIME_KEYS = {"date", "machine", "wallSeconds", "experimentSeconds", "partSeconds", "seconds", "hessianSeconds",
             "peakMemoryBytes", "peakWorkingSetMiB"}
TIME_COLUMNS = {"seconds"}
# "3.2 s", "68.9 ms", "1.5 min" inside texts; a staging folder `/.NAME.staging-PID-RAND/` and the out folder itself.
DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s?(?:ms|s|min)\b")
STAGING = re.compile(r"\S*/\.[^/\s]+\.staging-\d+-[0-9a-f]+/")


def normalise_json(value, root):
    if isinstance(value, dict):
        return {k: normalise_json(v, root) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [normalise_json(v, root) for v in value]
    if isinstance(value, str):
        return DURATION.sub("<duration>", STAGING.sub("<run>/", value).replace(root, "<out>"))
    return value


def normalise_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return text
    keep = [i for i, name in enumerate(rows[0]) if name not in TIME_COLUMNS]
    if len(keep) == len(rows[0]):
        return text
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([row[i] for i in keep if i < len(row)])
    return out.getvalue()


def comparable_files(root):
    """Relative path → normalised text (CSV, summary.json) or bytes (safetensors)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if name.endswith(".csv"):
                with open(path, encoding="utf-8", newline="") as f:
                    files[rel] = normalise_csv(f.read())
            elif name == "summary.json":
                with open(path, encoding="utf-8") as f:
                    files[rel] = json.dumps(normalise_json(json.load(f), os.path.abspath(root)), indent=1, ensure_ascii=False) + "\n"
            elif name.endswith(".safetensors"):
                with open(path, "rb") as f:
                    files[rel] = f.read()
    return files


def numbers_close(a, b, tolerance):
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return a == b
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or abs(x - y) <= tolerance * max(abs(x), abs(y))


def json_close(a, b, tolerance):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_close(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return numbers_close(a, b, tolerance)
    return a == b


def csv_close(a, b, tolerance):
    ra, rb = list(csv.reader(io.StringIO(a))), list(csv.reader(io.StringIO(b)))
    return len(ra) == len(rb) and all(
        len(x) == len(y) and all(numbers_close(p, q, tolerance) for p, q in zip(x, y)) for x, y in zip(ra, rb))


def first_difference(a, b):
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return f"line {n}: {x[:140]!r} vs {y[:140]!r}"
    return f"{len(a.splitlines())} vs {len(b.splitlines())} lines"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the earlier result folder, or a stored reference")
    parser.add_argument("new", help="the result folder to compare with it")
    parser.add_argument("--store", action="store_true", help="write NEW's comparable content into OLD")
    parser.add_argument("--tolerance", type=float, default=0.0, help="relative tolerance for numbers (default 0)")
    args = parser.parse_args()
    for folder in ([args.new] if args.store else [args.old, args.new]):
        if not os.path.isfile(os.path.join(folder, "summary.json")):
            print(f"compare-results: {folder} is not a reproduce result (no summary.json in it)", file=sys.stderr)
            return 2
    if not math.isfinite(args.tolerance) or args.tolerance < 0:
        print(f"compare-results: --tolerance must be a finite number ≥ 0, got {args.tolerance}", file=sys.stderr)
        return 2

    new = comparable_files(args.new)
    if args.store:
        shutil.rmtree(args.old, ignore_errors=True)
        for rel, content in new.items():
            if isinstance(content, bytes):
                continue
            path = os.path.join(args.old, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(content)
        print(f"stored {sum(isinstance(c, str) for c in new.values())} files of {args.new} in {args.old}")
        return 0

    old = comparable_files(args.old)
    identical, close, problems = 0, [], []
    for rel in sorted(set(old) | set(new)):
        if rel not in new:
            problems.append(f"{rel}: missing from {args.new}")
        elif rel not in old:
            if not isinstance(new[rel], bytes):  # a stored reference keeps no safetensors
                problems.append(f"{rel}: new (not in {args.old})")
        elif old[rel] == new[rel]:
            identical += 1
        elif isinstance(old[rel], bytes):
            problems.append(f"{rel}: bytes differ")
        elif args.tolerance > 0 and (
                json_close(json.loads(old[rel]), json.loads(new[rel]), args.tolerance) if rel.endswith(".json")
                else csv_close(old[rel], new[rel], args.tolerance)):
            close.append(rel)
        else:
            problems.append(f"{rel}: {first_difference(old[rel], new[rel])}")
    for line in problems:
        print("DIFFERS " + line)
    for rel in close:
        print(f"within {args.tolerance:g} (not byte-identical): {rel}")
    if problems:
        print(f"results differ: {len(problems)} files differ, {len(close)} within tolerance, {identical} identical")
        return 1
    print(f"results equal: {identical} files identical" + (f", {len(close)} within {args.tolerance:g}" if close else "")
          + " (times, dates, machine and memory excluded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

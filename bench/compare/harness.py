"""Shared harness of the PyTorch twins: sets PyTorch up at its best, times work, exchanges arrays.

Every twin script does:

    import harness                      # first: tunes glibc malloc before torch allocates anything
    torch = harness.setup()             # imports torch, sets 2 threads
    args = harness.parse_args(...)
    result = harness.measure(run, runs, warmup, before=...)
    harness.write_result(args.out, {...})

Array exchange with the C# runner ("bundle"): a JSON manifest
    {"arrays": {"U": {"file": "gd.inputs.U.f64", "shape": [5, 50]}, ...}, "scalars": {...}}
whose files are raw little-endian float64, row-major, next to the manifest.
"""

import ctypes
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time

# glibc mallopt parameters (malloc.h): without a high mmap/trim threshold every large tensor is a fresh
# mmap + page faults + munmap, which makes a CNN epoch about 3x slower on these machines.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
ONE_GIB = 1 << 30


def _tune_malloc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        mmap_ok = libc.mallopt(M_MMAP_THRESHOLD, ONE_GIB)
        trim_ok = libc.mallopt(M_TRIM_THRESHOLD, ONE_GIB)
        return {"M_MMAP_THRESHOLD": ONE_GIB if mmap_ok == 1 else "mallopt failed",
                "M_TRIM_THRESHOLD": ONE_GIB if trim_ok == 1 else "mallopt failed"}
    except OSError as e:  # not glibc
        return {"error": str(e)}


MALLOPT = _tune_malloc()  # at import, before torch
THREADS = 2
torch = None


def setup():
    """Imports torch and fixes its thread count; returns the module."""
    global torch
    import torch as _torch
    torch = _torch
    torch.set_num_threads(THREADS)
    return torch


def loaded_native_libraries():
    """BLAS/LAPACK/OpenMP/oneDNN libraries mapped into this process (proves which BLAS torch uses)."""
    keys = ("blas", "lapack", "gomp", "mkl", "dnnl", "omp")
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if path.startswith("/") and any(k in os.path.basename(path).lower() for k in keys):
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def environment():
    """What PyTorch ran with; call after the work so the BLAS library is loaded."""
    import numpy
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "mallopt": MALLOPT,
        "native_libraries": loaded_native_libraries(),
        "config": torch.__config__.show(),
        "parallel_info": torch.__config__.parallel_info(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def parse_args(description, extra=None):
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--workload", required=True, help="workload name (selects the variant)")
    p.add_argument("--runs", type=int, default=5, help="timed runs (median reported)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    p.add_argument("--inputs", help="bundle manifest with the shared inputs (written by the C# runner)")
    p.add_argument("--noether", help="bundle manifest with Noether's results, to compare against")
    p.add_argument("--out", required=True, help="where to write the JSON result")
    if extra:
        extra(p)
    return p.parse_args()


def measure(run, runs, warmup, before=None):
    """Times run() `runs` times after `warmup` untimed calls; before() (untimed) precedes every call.

    Returns (times_ms, last return value of run)."""
    out = None
    for _ in range(warmup):
        if before:
            before()
        out = run()
    times = []
    for _ in range(runs):
        if before:
            before()
        gc.collect()
        t0 = time.perf_counter()
        out = run()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times, out


def summary(times):
    return {"times_ms": times, "median_ms": statistics.median(times) if times else None}


def read_bundle(manifest_path):
    """{name: numpy array (float64)} and the scalars of a bundle."""
    import numpy as np
    with open(manifest_path) as f:
        m = json.load(f)
    base = os.path.dirname(os.path.abspath(manifest_path))
    arrays = {}
    for name, a in m.get("arrays", {}).items():
        arrays[name] = np.fromfile(os.path.join(base, a["file"]), dtype="<f8").reshape(a["shape"])
    return arrays, m.get("scalars", {})


def write_result(path, result):
    """Atomic write of the result JSON (temp file, then rename)."""
    result.setdefault("env", environment())
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, path)


def fail(message):
    print("error: " + message, file=sys.stderr)
    sys.exit(2)

"""PyTorch twin of workload (d): square matrix products C = A B into a preallocated C.

Workload names look like matmul-512-f64-openblas / matmul-2048-f32-managed (the suffix names the Noether
kernel; PyTorch always uses its own BLAS, which is OpenBLAS here: see env.native_libraries).
--reps products are timed per run; the median per-product time is reported.
"""

import harness

torch = harness.setup()
args = harness.parse_args(__doc__, lambda p: p.add_argument("--reps", type=int, default=1))

parts = args.workload.split("-")
n = int(parts[1])
dtype = {"f64": torch.float64, "f32": torch.float32}[parts[2]]
gen = torch.Generator().manual_seed(1)
A = torch.randn(n, n, dtype=dtype, generator=gen)
B = torch.randn(n, n, dtype=dtype, generator=gen)
C = torch.empty(n, n, dtype=dtype)


def run():
    for _ in range(args.reps):
        torch.matmul(A, B, out=C)


with torch.no_grad():
    times, _ = harness.measure(run, args.runs, args.warmup)
per_product = [t / args.reps for t in times]
result = {"workload": args.workload, **harness.summary(per_product), "reps_per_run": args.reps,
          "variant": "torch.matmul(a, b, out=c)"}
harness.write_result(args.out, result)

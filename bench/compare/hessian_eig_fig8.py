"""PyTorch twin of workload hessian-eig-fig8 (issue 4): full 750x750 Hessian + all eigenvalues of the Fig. 8 network.

L = 1/2 ||Y - U tanh(V X)||^2, U 10x50, V 50x5, X = I_5, float64. Parameters flattened as [U row-major,
V row-major], as Noether does. Timed: the Hessian (torch.autograd.functional.hessian with vectorize=False and
vectorize=True, and functorch.hessian when available; the fastest counts) plus torch.linalg.eigvalsh (LAPACK
syevd through the BLAS/LAPACK torch links). The eigenvalues are compared with the ones Noether wrote.
"""

import warnings

import fig8
import harness

torch = harness.setup()

args = harness.parse_args(__doc__)
U, V, X, Y = fig8.load(torch, args, "hessian_eig_fig8.py")


def with_eigenvalues(hessian):
    return lambda: torch.linalg.eigvalsh(hessian())


methods = {name: with_eigenvalues(h) for name, h in fig8.hessian_methods(torch, U, V, X, Y, use_tanh=True).items()}

variants = {}
values = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # vectorize=True and functorch warn that they are experimental in 1.13
    for name, method in methods.items():
        times, ev = harness.measure(method, args.runs, args.warmup)
        variants[name] = harness.summary(times)
        values[name] = ev.numpy()

best = min(variants, key=lambda k: variants[k]["median_ms"])
result = {"workload": args.workload, **variants[best], "variant": f"fastest of {len(variants)}: {best} + eigvalsh", "variants": variants}
result["check"] = {}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    ev = values[best]
    result["check"].update({
        "what": "750 eigenvalues (ascending): max |PyTorch - Noether|",
        "max_abs_diff": float(abs(ev - noether["eigenvalues"]).max()),
        "max_abs_value": float(abs(ev).max()),
    })

harness.write_result(args.out, result)

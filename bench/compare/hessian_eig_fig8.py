"""PyTorch twin of workload hessian-eig-fig8 (issue 4): full 750x750 Hessian + all eigenvalues of the Fig. 8 network.

L = 1/2 ||Y - U tanh(V X)||^2, U 10x50, V 50x5, X = I_5, float64. Parameters flattened as [U row-major,
V row-major], as Noether does. Timed: the Hessian (torch.autograd.functional.hessian with vectorize=False and
vectorize=True, and functorch.hessian when available; the fastest counts) plus torch.linalg.eigvalsh (LAPACK
syevd through the BLAS/LAPACK torch links). The eigenvalues are compared with the ones Noether wrote.
"""

import warnings

import harness

torch = harness.setup()
from torch.autograd.functional import hessian  # noqa: E402

args = harness.parse_args(__doc__)
if not args.inputs:
    harness.fail("hessian_eig_fig8.py needs --inputs (the C# runner writes them)")

arrays, _ = harness.read_bundle(args.inputs)
U = torch.from_numpy(arrays["U"]).clone()
V = torch.from_numpy(arrays["V"]).clone()
X = torch.from_numpy(arrays["X"]).clone()
Y = torch.from_numpy(arrays["Y"]).clone()
n_u, n_v = U.numel(), V.numel()


def loss(u, v):
    return 0.5 * ((Y - u @ torch.tanh(v @ X)) ** 2).sum()


def assemble(blocks):
    (huu, huv), (hvu, hvv) = blocks
    top = torch.cat([huu.reshape(n_u, n_u), huv.reshape(n_u, n_v)], dim=1)
    bottom = torch.cat([hvu.reshape(n_v, n_u), hvv.reshape(n_v, n_v)], dim=1)
    return torch.cat([top, bottom], dim=0)


def autograd_eig(vectorize):
    def run():
        return torch.linalg.eigvalsh(assemble(hessian(loss, (U, V), vectorize=vectorize)))
    return run


def functorch_eig():
    import functorch
    hess = functorch.hessian(loss, argnums=(0, 1))

    def run():
        return torch.linalg.eigvalsh(assemble(hess(U, V)))
    return run


methods = {"vectorize=False": autograd_eig(False), "vectorize=True": autograd_eig(True)}
try:
    methods["functorch.hessian"] = functorch_eig()
except ImportError:
    pass

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

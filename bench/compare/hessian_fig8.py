"""PyTorch twin of workload (c): the full 750x750 Hessian of the Fig. 8 network.

L = 1/2 ||Y - U sigma(V X)||^2, U 10x50, V 50x5, X = I_5, float64; sigma = identity (hessian-fig8-identity)
or tanh (hessian-fig8-tanh). Parameters flattened as [U row-major, V row-major], as Noether does.
Timed three ways: torch.autograd.functional.hessian with vectorize=False (one backward per column) and
vectorize=True (batched via vmap), and functorch.hessian (jacfwd over jacrev; Debian ships functorch with
torch 1.13); the fastest is PyTorch's "best". The assembled matrix is compared
with the Hessian the C# runner wrote.
"""

import warnings

import harness

torch = harness.setup()
from torch.autograd.functional import hessian  # noqa: E402

args = harness.parse_args(__doc__)
if not args.inputs:
    harness.fail("hessian_fig8.py needs --inputs (the C# runner writes them)")

arrays, _ = harness.read_bundle(args.inputs)
U = torch.from_numpy(arrays["U"]).clone()
V = torch.from_numpy(arrays["V"]).clone()
X = torch.from_numpy(arrays["X"]).clone()
Y = torch.from_numpy(arrays["Y"]).clone()
use_tanh = args.workload.endswith("tanh")
n_u, n_v = U.numel(), V.numel()


def loss(u, v):
    h = v @ X
    if use_tanh:
        h = torch.tanh(h)
    return 0.5 * ((Y - u @ h) ** 2).sum()


def full(vectorize):
    def run():
        (huu, huv), (hvu, hvv) = hessian(loss, (U, V), vectorize=vectorize)
        top = torch.cat([huu.reshape(n_u, n_u), huv.reshape(n_u, n_v)], dim=1)
        bottom = torch.cat([hvu.reshape(n_v, n_u), hvv.reshape(n_v, n_v)], dim=1)
        return torch.cat([top, bottom], dim=0)
    return run


def functorch_full():
    import functorch
    hess = functorch.hessian(loss, argnums=(0, 1))

    def run():
        (huu, huv), (hvu, hvv) = hess(U, V)
        top = torch.cat([huu.reshape(n_u, n_u), huv.reshape(n_u, n_v)], dim=1)
        bottom = torch.cat([hvu.reshape(n_v, n_u), hvv.reshape(n_v, n_v)], dim=1)
        return torch.cat([top, bottom], dim=0)
    return run


methods = {"vectorize=False": full(False), "vectorize=True": full(True)}
try:
    methods["functorch.hessian"] = functorch_full()
except ImportError:
    pass  # functorch not installed: the two autograd.functional variants remain

variants = {}
matrices = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # vectorize=True and functorch warn that they are experimental in 1.13
    for name, method in methods.items():
        times, H = harness.measure(method, args.runs, args.warmup)
        variants[name] = harness.summary(times)
        matrices[name] = H.numpy()

best = min(variants, key=lambda k: variants[k]["median_ms"])
result = {"workload": args.workload, **variants[best], "variant": f"fastest of {len(variants)}: {best}", "variants": variants}
result["check"] = {}
reference = matrices["vectorize=False"]
result["check"]["pytorch_variants_max_abs_diff"] = max(float(abs(m - reference).max()) for m in matrices.values())
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    H = matrices[best]
    result["check"].update({
        "what": "750x750 Hessian: max |PyTorch - Noether|",
        "max_abs_diff": float(abs(H - noether["H"]).max()),
        "max_abs_value": float(abs(H).max()),
    })

harness.write_result(args.out, result)

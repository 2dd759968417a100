"""PyTorch twin of workload (c): the full 750x750 Hessian of the Fig. 8 network.

L = 1/2 ||Y - U sigma(V X)||^2, U 10x50, V 50x5, X = I_5, float64; sigma = identity (hessian-fig8-identity)
or tanh (hessian-fig8-tanh). Parameters flattened as [U row-major, V row-major], as Noether does.
Timed the three ways of fig8.hessian_methods (autograd.functional.hessian with vectorize False/True, and
functorch.hessian); the fastest is PyTorch's "best". The assembled matrix is compared
with the Hessian the C# runner wrote.
"""

import warnings

import fig8
import harness

torch = harness.setup()

args = harness.parse_args(__doc__)
U, V, X, Y = fig8.load(torch, args, "hessian_fig8.py")
methods = fig8.hessian_methods(torch, U, V, X, Y, use_tanh=args.workload.endswith("tanh"))

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

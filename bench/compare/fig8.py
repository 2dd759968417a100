"""The Fig. 8 network shared by the Hessian twins: L = 1/2 ||Y - U sigma(V X)||^2, U 10x50, V 50x5, X = I_5, float64.

Inputs come from the C# runner's bundle. Parameters are flattened as [U row-major, V row-major], as Noether does.
hessian_methods() gives PyTorch's ways to the full 750x750 Hessian: torch.autograd.functional.hessian with
vectorize=False (one backward per column) and vectorize=True (batched via vmap), and functorch.hessian (jacfwd over
jacrev; Debian ships functorch with torch 1.13) when it imports.
"""

import harness


def load(torch, args, script):
    """(U, V, X, Y) from the runner's --inputs bundle."""
    if not args.inputs:
        harness.fail(f"{script} needs --inputs (the C# runner writes them)")
    arrays, _ = harness.read_bundle(args.inputs)
    return tuple(torch.from_numpy(arrays[k]).clone() for k in ("U", "V", "X", "Y"))


def hessian_methods(torch, U, V, X, Y, use_tanh):
    """name -> zero-argument callable returning the assembled 750x750 Hessian."""
    from torch.autograd.functional import hessian

    n_u, n_v = U.numel(), V.numel()

    def loss(u, v):
        h = v @ X
        if use_tanh:
            h = torch.tanh(h)
        return 0.5 * ((Y - u @ h) ** 2).sum()

    def assemble(blocks):
        (huu, huv), (hvu, hvv) = blocks
        top = torch.cat([huu.reshape(n_u, n_u), huv.reshape(n_u, n_v)], dim=1)
        bottom = torch.cat([hvu.reshape(n_v, n_u), hvv.reshape(n_v, n_v)], dim=1)
        return torch.cat([top, bottom], dim=0)

    def autograd(vectorize):
        return lambda: assemble(hessian(loss, (U, V), vectorize=vectorize))

    methods = {"vectorize=False": autograd(False), "vectorize=True": autograd(True)}
    try:
        import functorch
        hess = functorch.hessian(loss, argnums=(0, 1))
        methods["functorch.hessian"] = lambda: assemble(hess(U, V))
    except ImportError:
        pass  # functorch not installed: the two autograd.functional variants remain
    return methods

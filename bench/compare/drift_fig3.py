"""PyTorch twin of the drift workload (issue 3): `noether drift`'s full setting, Fig. 3.

m = 5, h = 50, n = 10, X = I, loss = mean squared error over the m*k outputs (PyTorch's MSELoss, as the
authors' scripts), sigma in {identity, relu, sigmoid, tanh} x lr in {0.1, 0.01, 0.001}, `steps` GD steps
(2 x steps for sigmoid), all from the same U0, V0, Y (read from the C# runner's bundle). The same work as
Noether's DriftExperiment (without the gradient-flow curves): every step forward, backward, update; the eq. 48
quantity Q = 1/2 ||U||^2 - sum G(V) at the same log-spaced record steps, and for the quadratic forms (identity,
ReLU) also every step with the eq. 41 prediction eta^2 (1/2 ||g_U||^2 - 1/2 ||g_V||^2) checked against it.
"""

import math

import harness

torch = harness.setup()
args = harness.parse_args(__doc__)
if not args.inputs:
    harness.fail("drift_fig3.py needs --inputs (the C# runner writes them)")

arrays, scalars = harness.read_bundle(args.inputs)
steps = int(scalars["steps"])
records = int(scalars["records"])
U0 = torch.from_numpy(arrays["U"]).clone()
V0 = torch.from_numpy(arrays["V"]).clone()
Y = torch.from_numpy(arrays["Y"]).clone()
rates = [0.1, 0.01, 0.001]


def log_spaced(n, count):
    s = {0, n}
    for i in range(count):
        s.add(min(max(int(round(n ** (i / max(1, count - 1)))), 1), n))
    return s


def G(kind, v):
    if kind == "sigmoid":
        return v + torch.exp(v) - 1
    if kind == "tanh":
        return 0.5 * torch.sinh(v) ** 2
    return 0.5 * v * v


SIGMA = {"identity": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
final = {}


def run_all():
    worst = 0.0
    for kind in ("identity", "relu", "sigmoid", "tanh"):
        n = 2 * steps if kind == "sigmoid" else steps
        record = log_spaced(n, records)
        quadratic = kind in ("identity", "relu")
        sigma = SIGMA[kind]
        for lr in rates:
            U = U0.clone().requires_grad_(True)
            V = V0.clone().requires_grad_(True)
            prev_q = predicted = None
            loss = None
            for t in range(n + 1):
                loss = ((Y - U @ sigma(V)) ** 2).mean()  # X = I
                loss.backward()
                with torch.no_grad():
                    if quadratic or t in record:
                        q = float(0.5 * (U * U).sum() - G(kind, V).sum())
                        if quadratic and t > 0:
                            worst = max(worst, abs((q - prev_q) - predicted))
                        prev_q = q
                    if t == n:
                        break
                    gu, gv = U.grad, V.grad
                    if quadratic:
                        predicted = float(lr * lr * (0.5 * (gu * gu).sum() - 0.5 * (gv * gv).sum()))
                    U.sub_(gu, alpha=lr)
                    V.sub_(gv, alpha=lr)
                U.grad = None
                V.grad = None
            final[f"{kind}/{lr:g}"] = float(loss)
    return worst


times, worst = harness.measure(run_all, args.runs, args.warmup)
result = {"workload": args.workload, **harness.summary(times), "max_eq41_error": worst,
          "variant": "autograd, manual GD update under torch.no_grad, grad=None, one process, sequential configs"}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    ours = noether["final_loss"]
    keys = [f"{k}/{lr:g}" for k in ("identity", "relu", "sigmoid", "tanh") for lr in rates]
    # Absolute differences: several runs converge to losses of 1e-30, where only rounding differs.
    diff = max(abs(final[k] - float(ours[i])) for i, k in enumerate(keys))
    result["final_losses"] = {k: {"pytorch": final[k], "noether": float(ours[i])} for i, k in enumerate(keys)}
    result["check"] = {"what": "final loss of the 12 runs: max |PyTorch - Noether|",
                       "max_abs_diff": float(diff), "max_abs_value": max(abs(v) for v in final.values())}
harness.write_result(args.out, result)

"""PyTorch twin of workload (a): full-batch gradient descent on the Fig. 3 network.

L = 1/2 ||Y - U sigma(V X)||^2 (summed), U 5x50, V 50x10, X = I_10, float64, `steps` steps of lr.
sigma = identity (gd-fig3-identity) or ReLU (gd-fig3-relu). Inputs come from the C# runner's bundle, so
both sides start from the same U, V, Y; the final U, V are compared with Noether's.
"""

import harness

torch = harness.setup()
args = harness.parse_args(__doc__)
if not args.inputs:
    harness.fail("gd_fig3.py needs --inputs (the C# runner writes them)")

arrays, scalars = harness.read_bundle(args.inputs)
steps = int(scalars["steps"])
lr = float(scalars["lr"])
relu = args.workload.endswith("relu")

U0 = torch.from_numpy(arrays["U"]).clone()
V0 = torch.from_numpy(arrays["V"]).clone()
X = torch.from_numpy(arrays["X"]).clone()
Y = torch.from_numpy(arrays["Y"]).clone()
state = {}


def reset():
    state["U"] = U0.clone().requires_grad_(True)
    state["V"] = V0.clone().requires_grad_(True)


def train():
    U, V = state["U"], state["V"]
    loss = None
    for _ in range(steps):
        H = V @ X
        if relu:
            H = torch.relu(H)
        loss = 0.5 * ((Y - U @ H) ** 2).sum()
        loss.backward()
        with torch.no_grad():  # the update is not part of the graph
            U.sub_(U.grad, alpha=lr)
            V.sub_(V.grad, alpha=lr)
        U.grad = None  # cheaper than zero_(): no memset, no kept buffer
        V.grad = None
    return float(loss)


times, final_loss = harness.measure(train, args.runs, args.warmup, before=reset)
result = {"workload": args.workload, **harness.summary(times), "final_loss": final_loss,
          "variant": "manual SGD update under torch.no_grad, grad=None"}

if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    U, V = state["U"].detach().numpy(), state["V"].detach().numpy()
    diff = max(abs(U - noether["U"]).max(), abs(V - noether["V"]).max())
    scale = max(abs(U).max(), abs(V).max())
    result["check"] = {"what": f"final U, V after {steps} steps: max |PyTorch - Noether|",
                       "max_abs_diff": float(diff), "max_abs_value": float(scale)}

harness.write_result(args.out, result)

"""PyTorch twin of workload lanczos-cnn (issue 4): top Hessian eigenvalue of the SPEC CNN by a fixed number of HVPs.

Model: conv 3x3, 1 -> 16 channels, padding 1 -> max-pool 2 -> flatten -> linear 3136 -> 32 -> LeakyReLU(0.01) ->
linear 32 -> 10 (nn.Sequential, so the state_dict names 0.weight ... 5.bias are Noether's), float64, with the
weights, the 128 images, labels and start vector v0 that the C# runner wrote. Loss: mean cross-entropy on logits.
Timed: forward, torch.autograd.grad(create_graph=True), then --products power-iteration steps, each one
Hessian-vector product by double backward (torch.autograd.grad with grad_outputs, retain_graph=True).
Check: H v0 compared with Noether's.
"""

import harness

torch = harness.setup()
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def extra(p):
    p.add_argument("--products", type=int, default=20)


args = harness.parse_args(__doc__, extra)
if not args.inputs:
    harness.fail("lanczos_cnn.py needs --inputs (the C# runner writes them)")
arrays, _ = harness.read_bundle(args.inputs)

model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 14 * 14, 32),
                      nn.LeakyReLU(0.01), nn.Linear(32, 10)).double()
state = {k[len("param:"):]: torch.from_numpy(v.copy()) for k, v in arrays.items() if k.startswith("param:")}
model.load_state_dict(state)
params = list(model.parameters())
x = torch.from_numpy(arrays["images"].copy())
y = torch.from_numpy(arrays["labels"].astype("int64"))
v0 = torch.from_numpy(arrays["v0"].copy())
sizes = [p.numel() for p in params]


def split(v):
    return [c.view_as(p) for c, p in zip(torch.split(v, sizes), params)]


def gradient_graph():
    loss = F.cross_entropy(model(x), y)
    return torch.autograd.grad(loss, params, create_graph=True)


def hvp(grads, v):
    hv = torch.autograd.grad(grads, params, grad_outputs=split(v), retain_graph=True)
    return torch.cat([h.reshape(-1) for h in hv])


def power_iteration():
    grads = gradient_graph()
    v = v0 / v0.norm()
    lam = None
    for _ in range(args.products):
        hv = hvp(grads, v)
        lam = float(torch.dot(v, hv))
        v = hv / hv.norm()
    return lam


times, lam = harness.measure(power_iteration, args.runs, args.warmup)
result = {"workload": args.workload, **harness.summary(times), "lambda_max_power_iteration": lam, "products": args.products,
          "variant": "torch.autograd.grad double backward, power iteration"}
result["check"] = {}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    hv0 = hvp(gradient_graph(), v0).detach().numpy()
    result["check"].update({
        "what": "H v0 (100,874 entries): max |PyTorch - Noether|",
        "max_abs_diff": float(abs(hv0 - noether["Hv0"]).max()),
        "max_abs_value": float(abs(hv0).max()),
        "lambda_noether_lanczos": float(noether["lambda"][0]),
        "lambda_pytorch_power_iteration": lam,
    })
harness.write_result(args.out, result)

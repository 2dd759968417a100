"""PyTorch twin of workloads resnet20-hvp and transformer-hvp (issue 13): one Hessian-vector product, float64.

Model: the make_zoo.py class of --model (ResNet20 or Transformer) with the file's initializers (weights and BatchNorm
running statistics: the values Noether imports), float64, model.eval() (BatchNorm with running statistics, as
`noether curvature` runs it). Loss: mean cross-entropy on logits of the 128 images and labels the C# runner wrote;
v: the runner's direction, one tensor per parameter (by state_dict name). Timed, per variant: the forward pass, the
gradient and one Hessian-vector product —
  double backward:  torch.autograd.grad(loss, params, create_graph=True), then torch.autograd.grad(grads, params, v);
  forward-over-reverse: functorch.jvp(functorch.grad(f), (params,), (v,)) with a functional model (functorch 0.2.x,
                        shipped with Debian's torch 1.13); skipped, with the reason recorded, if it fails.
The fastest counts. Check: H v and the gradient against Noether's (the issue asks <= 1e-10 relative).
"""

import harness
import zoo

torch = harness.setup()
import torch.nn.functional as F  # noqa: E402


args, arrays, _, model, unused, x, y = zoo.fixture_batch(torch, harness, __doc__, "graph_hvp.py")
names = [n for n, _ in model.named_parameters()]
params = [p for _, p in model.named_parameters()]
missing = [n for n in names if "v:" + n not in arrays]
extra_v = [k[2:] for k in arrays if k.startswith("v:") and k[2:] not in names]
if missing or extra_v:
    harness.fail(f"parameters differ: PyTorch's {missing[:5]} have no direction, Noether's {extra_v[:5]} are not PyTorch's")
v = [torch.from_numpy(arrays["v:" + n].copy()).view_as(p) for n, p in zip(names, params)]


def double_backward():
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    hv = torch.autograd.grad(grads, params, grad_outputs=v)
    return [g.detach() for g in grads], list(hv)


variants, outputs, skipped = {}, {}, {}
times, out = harness.measure(double_backward, args.runs, args.warmup)
variants["double backward (autograd.grad)"] = harness.summary(times)
outputs["double backward (autograd.grad)"] = out

try:
    import functorch

    fmodel, fparams, buffers = functorch.make_functional_with_buffers(model)

    onehot = F.one_hot(y, 10).to(torch.float64)

    def loss_of(ps):
        # Cross-entropy as logsumexp minus a one-hot contraction: the backward rules of nll_loss and log_softmax have no
        # forward-mode rule in torch 1.13.
        z = fmodel(ps, buffers, x)
        return (torch.logsumexp(z, dim=1) - (z * onehot).sum(dim=1)).mean()

    def forward_over_reverse():
        grads, hv = functorch.jvp(functorch.grad(loss_of), (tuple(params),), (tuple(v),))
        return [g.detach() for g in grads], [h.detach() for h in hv]

    times, out = harness.measure(forward_over_reverse, args.runs, args.warmup)
    variants["forward-over-reverse (functorch.jvp of functorch.grad)"] = harness.summary(times)
    outputs["forward-over-reverse (functorch.jvp of functorch.grad)"] = out
except Exception as e:  # noqa: BLE001 — a variant that cannot run is recorded, not fatal
    skipped["forward-over-reverse (functorch)"] = f"{type(e).__name__}: {str(e)[:300]}"

best = min(variants, key=lambda k: variants[k]["median_ms"])
result = {"workload": args.workload, **variants[best], "variant": f"fastest of {len(variants)}: {best}", "variants": variants,
          "skipped_variants": skipped, "parameters": int(sum(p.numel() for p in params)), "initializers_not_in_state_dict": unused}


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts]).numpy()


grad_ref, hv_ref = (flat(t) for t in outputs[best])
result["check"] = {"pytorch_variants_max_abs_diff_hv": max(float(abs(flat(o[1]) - hv_ref).max()) for o in outputs.values())}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    hv_n = flat([torch.from_numpy(noether["Hv:" + n].reshape(-1)) for n in names])
    grad_n = flat([torch.from_numpy(noether["grad:" + n].reshape(-1)) for n in names])
    d_hv, d_g = float(abs(hv_ref - hv_n).max()), float(abs(grad_ref - grad_n).max())
    s_hv, s_g = float(abs(hv_ref).max()), float(abs(grad_ref).max())
    result["check"].update({
        "what": "H v: max |PyTorch - Noether| (the gradient below)",
        "max_abs_diff": d_hv,
        "max_abs_value": s_hv,
        "tolerance": 1e-10,
        "hv_relative_max": d_hv / s_hv,
        "hv_relative_norm": float(((hv_ref - hv_n) ** 2).sum() ** 0.5 / (hv_ref ** 2).sum() ** 0.5),
        "gradient_max_abs_diff": d_g,
        "gradient_max_abs_value": s_g,
        "gradient_relative_max": d_g / s_g,
        "relative_within_1e-10": max(d_hv / s_hv, d_g / s_g) <= 1e-10,
    })
harness.write_result(args.out, result)

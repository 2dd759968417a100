"""PyTorch twin of workloads resnet20-curvature and transformer-curvature (issue 15): λ_max and a Hutchinson trace, float64.

Model: the make_zoo.py class of --model with the file's initializers, float64, model.eval() (BatchNorm with running
statistics). Loss: mean cross-entropy on the runner's 128 images and labels. Timed, per variant: the forward pass, the
gradient with its graph (once), power_steps power-iteration Hessian-vector products from the runner's start vector v0
(v <- Hv/|Hv|, λ = v·Hv at the last step), then one product per runner probe z for Hutchinson's zᵀHz —
  per product:  torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True) (PyHessian's way);
  batched:      the probes probes_per_product at a time with is_grads_batched=True (vmap over the backward; skipped with
                the reason recorded if torch cannot run it).
The fastest counts. Check: λ and every zᵀHz against Noether's.
"""

import harness
import zoo

torch = harness.setup()
import torch.nn.functional as F  # noqa: E402


args, arrays, scalars, model, unused, x, y = zoo.fixture_batch(torch, harness, __doc__, "graph_curvature.py")
steps, per_product = int(scalars["power_steps"]), int(scalars["probes_per_product"])
params = [p for _, p in model.named_parameters()]
n = sum(p.numel() for p in params)
if arrays["start"].shape[0] != n:
    harness.fail(f"the runner's vectors have {arrays['start'].shape[0]} entries, the model {n} parameters")
start = torch.from_numpy(arrays["start"].copy())
probes = torch.from_numpy(arrays["probes"].copy())


def split(flat):
    out, at = [], 0
    for p in params:
        out.append(flat[at:at + p.numel()].view_as(p))
        at += p.numel()
    return out


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def power_iteration(hvp):
    v = start / start.norm()
    lam = 0.0
    for _ in range(steps):
        hv = flat(hvp(split(v)))
        lam = float(v @ hv)
        v = hv / hv.norm()
    return lam


def recorded():
    """The forward pass and the gradient with its graph (once per run), and H·v through that graph (batched: one row per probe)."""
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    return lambda v, batched=False: torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True, is_grads_batched=batched)


def one_by_one():
    hvp = recorded()
    lam = power_iteration(hvp)
    return lam, [float(z @ flat(hvp(split(z)))) for z in probes]


def batched():
    hvp = recorded()
    lam = power_iteration(hvp)
    samples = []
    for s in range(0, probes.shape[0], per_product):
        z = probes[s:s + per_product]
        parts, at = [], 0
        for p in params:
            parts.append(z[:, at:at + p.numel()].reshape(z.shape[0], *p.shape))
            at += p.numel()
        hz = torch.cat([h.reshape(z.shape[0], -1) for h in hvp(parts, batched=True)], dim=1)
        samples.extend(float(v) for v in (z * hz).sum(dim=1))
    return lam, samples


variants, outputs, skipped = {}, {}, {}
times, out = harness.measure(one_by_one, args.runs, args.warmup)
variants["per product (autograd.grad, retain_graph)"] = harness.summary(times)
outputs["per product (autograd.grad, retain_graph)"] = out
try:
    times, out = harness.measure(batched, args.runs, args.warmup)
    variants[f"batched probes (is_grads_batched, {per_product} per product)"] = harness.summary(times)
    outputs[f"batched probes (is_grads_batched, {per_product} per product)"] = out
except Exception as e:  # noqa: BLE001 — a variant that cannot run is recorded, not fatal
    skipped["batched probes (is_grads_batched)"] = f"{type(e).__name__}: {str(e)[:300]}"

best = min(variants, key=lambda k: variants[k]["median_ms"])
lam_ref, samples_ref = outputs[best]
result = {"workload": args.workload, **variants[best], "variant": f"fastest of {len(variants)}: {best}", "variants": variants,
          "skipped_variants": skipped, "parameters": int(n), "initializers_not_in_state_dict": unused,
          "lambda_max_estimate": lam_ref, "trace_estimate": sum(samples_ref) / len(samples_ref)}
result["check"] = {"pytorch_variants_max_abs_diff_lambda": max(abs(o[0] - lam_ref) for o in outputs.values())}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    lam_n, samples_n = float(noether["lambda"][0]), [float(v) for v in noether["samples"]]
    d_lam = abs(lam_ref - lam_n) / abs(lam_ref)
    d_s = max(abs(a - b) for a, b in zip(samples_ref, samples_n)) / max(abs(a) for a in samples_ref)
    result["check"].update({
        "what": "λ_max and every probe's zᵀHz: max |PyTorch - Noether| relative to the largest |zᵀHz| (λ beside it)",
        "max_abs_diff": max(abs(a - b) for a, b in zip(samples_ref, samples_n)),
        "max_abs_value": max(abs(a) for a in samples_ref),
        "tolerance": 1e-10,
        "lambda_relative": d_lam,
        "samples_relative_max": d_s,
        "relative_within_1e-10": max(d_lam, d_s) <= 1e-10,
    })
harness.write_result(args.out, result)

"""PyTorch twin of the resnet20-<layer>-c<C>[-<O>]-h<H> rows (issue 13): one ResNet-20 layer, forward and backward.

conv<k>x<k>[s<stride>]: y = conv2d(x, w, stride, padding=k // 2) with the runner's kernel w;
bn-relu: y = relu(batch_norm(x, training=True)) with scale 1, shift 0, eps 1e-5.
Then y.backward(seed) with the shared seed (the output gradient): the gradients of x and of the parameters. float32,
NCHW or channels-last, whichever is faster; --reps layers per timed run, the median per-layer time reported. The check:
the weight gradient (conv) or the input gradient (bn-relu) against Noether's, relative to its largest entry.
"""

import harness

torch = harness.setup()
import torch.nn.functional as F  # noqa: E402

args = harness.parse_args(__doc__, lambda p: p.add_argument("--reps", type=int, default=10))
if not args.inputs:
    harness.fail("--inputs is required (the runner writes x, seed and w)")
arrays, _ = harness.read_bundle(args.inputs)
kind = args.workload.split("-")[1]
conv = kind.startswith("conv")
kernel = int(kind[4]) if conv else 0
stride = int(kind.split("s")[1]) if conv and "s" in kind else 1
x64, seed64 = arrays["x"], arrays["seed"]
channels = x64.shape[1]


def layer(x, seed, w):
    x = x.detach().requires_grad_(True)
    if conv:
        w = w.detach().requires_grad_(True)
        y = F.conv2d(x, w, stride=stride, padding=kernel // 2)
        y.backward(seed)
        return w.grad
    scale = torch.ones(channels, requires_grad=True)
    shift = torch.zeros(channels, requires_grad=True)
    y = F.relu(F.batch_norm(x, None, None, scale, shift, training=True, eps=1e-5))
    y.backward(seed)
    return x.grad


variants, results = {}, {}
for name, cl in (("NCHW", False), ("channels_last", True)):
    fmt = torch.channels_last if cl else torch.contiguous_format
    x = torch.from_numpy(x64).float().contiguous(memory_format=fmt)
    seed = torch.from_numpy(seed64).float().contiguous(memory_format=fmt)
    w = torch.from_numpy(arrays["w"]).float().contiguous(memory_format=fmt) if conv else None

    def run():
        out = None
        for _ in range(args.reps):
            out = layer(x, seed, w)
        return out

    times, out = harness.measure(run, args.runs, args.warmup)
    variants[name] = harness.summary([t / args.reps for t in times])
    results[name] = out.detach().contiguous().double().numpy()

best = min(variants, key=lambda k: variants[k]["median_ms"])
result = {"workload": args.workload, **variants[best], "variant": f"fastest of {len(variants)}: {best} (ms per layer)",
          "variants": variants, "reps_per_run": args.reps}
result["check"] = {}
if args.noether:
    import numpy as np
    noether, _ = harness.read_bundle(args.noether)
    what = "dw" if conv else "dx"
    ours, theirs = noether[what], results[best]
    result["check"].update({
        "what": f"{what} (float32, same inputs and output gradient): max |PyTorch - Noether| over max |PyTorch|",
        "max_abs_diff": float(np.max(np.abs(ours - theirs))),
        "max_abs_value": float(np.max(np.abs(theirs))),
        "tolerance": 1e-4,
    })
harness.write_result(args.out, result)

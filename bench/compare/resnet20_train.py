"""PyTorch twin of workload resnet20-train-steps (issue 13): SGD-momentum steps of ResNet-20 on Fashion-MNIST, float32.

Model: make_zoo.py's ResNet20 with the weights and BatchNorm running statistics of tests/fixtures/onnx/resnet20.onnx
(the file Noether imports), model.train() (batch statistics, running statistics updated). Mean cross-entropy on
logits; torch.optim.SGD(lr 0.1, momentum 0.9, weight_decay 5e-4); batch 128; the first --steps x 128 training images
in order (no shuffle: the same batches as Noether); pixels / 255. Timed: the --steps steps (forward, backward,
optimiser step); reported per step. Variants: NCHW (oneDNN/mkldnn convolution where PyTorch picks it) and
channels-last memory format; the faster counts. Untimed: data loading, model and optimiser creation before each run.
Check: the loss of the first step (same weights, same batch) against Noether's.
"""

import os

import numpy as np

import harness
from idx import read_idx
import zoo

torch = harness.setup()
import torch.nn.functional as F  # noqa: E402


def extra(p):
    p.add_argument("--model", required=True, help="tests/fixtures/onnx/resnet20.onnx")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")


args = harness.parse_args(__doc__, extra)
images = os.path.join(args.data_dir, "train-images-idx3-ubyte.gz")
labels = os.path.join(args.data_dir, "train-labels-idx1-ubyte.gz")
for p in (images, labels):
    if not os.path.exists(p):
        harness.fail(f"{p} not found (Debian: sudo apt-get install dataset-fashion-mnist)")
count = args.steps * args.batch
x_all = torch.from_numpy(read_idx(images)[:count].astype(np.float32) / 255.0).unsqueeze(1).contiguous()
y_all = torch.from_numpy(read_idx(labels)[:count].astype(np.int64))
batches = [(x_all[i:i + args.batch], y_all[i:i + args.batch]) for i in range(0, count, args.batch)]

state = {}


def fresh(channels_last):
    def make():
        model, _ = zoo.load(torch, args.model, torch.float32)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        model.train()
        state["model"] = model
        state["opt"] = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        state["batches"] = [(x.to(memory_format=torch.channels_last) if channels_last else x, y) for x, y in batches]
    return make


def steps():
    model, opt = state["model"], state["opt"]
    losses = []
    for x, y in state["batches"]:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


variants, losses = {}, {}
for name, cl in (("NCHW", False), ("channels_last", True)):
    times, out = harness.measure(steps, args.runs, args.warmup, before=fresh(cl))
    variants[name] = harness.summary([t / args.steps for t in times])
    losses[name] = out

best = min(variants, key=lambda k: variants[k]["median_ms"])
result = {"workload": args.workload, **variants[best], "variant": f"fastest of {len(variants)}: {best} (ms per step)",
          "variants": variants, "steps": args.steps, "first_loss": losses[best][0], "last_loss": losses[best][-1],
          "epoch_equivalent_s": variants[best]["median_ms"] * 469 / 1000.0}
result["check"] = {}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    first = float(noether["losses"][0])
    result["check"].update({
        "what": "loss of the first step (float32, same weights and batch): |PyTorch - Noether|",
        "max_abs_diff": abs(losses[best][0] - first),
        "max_abs_value": abs(losses[best][0]),
        "tolerance": 1e-5,
        "noether_first_loss": first,
        "noether_last_loss": float(noether["losses"][-1]),
    })
harness.write_result(args.out, result)

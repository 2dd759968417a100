#!/usr/bin/python3
"""PyTorch twin of `noether train --model tests/fixtures/onnx/resnet20.onnx` (same recipe, same initial weights).

Model: ResNet20 of tests/fixtures/onnx/make_zoo.py, its weights AND BatchNorm running statistics loaded from the
.onnx initializers (the names are its state_dict keys), so both sides start from the same point. Training:
model.train() (batch statistics; running statistics updated with momentum 0.1 and the unbiased variance), mean
cross-entropy on logits, SGD (momentum, weight decay L2 as torch.optim.SGD does it), learning rate stepped every
batch with Noether's LearningRateSchedule (cosine to 0 over all steps, after an optional linear warm-up), batch
128 (last batch smaller), pixels / 255 in [0, 1], a seeded permutation per epoch (torch.Generator, so the ORDER
differs from Noether's System.Random: the trajectories agree in distribution, not step by step). Evaluation:
model.eval() on the 10,000 test images after each epoch. float32, 2 threads.

Usage: /usr/bin/python3 bench/compare/train_model.py --epochs 1 --train-limit 6400 [--seeds 0 1 2]
"""
import argparse, gzip, math, os, sys, time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "onnx"))
from make_zoo import ResNet20  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--model", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "onnx", "resnet20.onnx"))
p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--epochs", type=int, default=10)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--momentum", type=float, default=0.9)
p.add_argument("--weight-decay", type=float, default=5e-4)
p.add_argument("--warmup-epochs", type=int, default=0)
p.add_argument("--train-limit", type=int, default=None)
p.add_argument("--seeds", type=int, nargs="+", default=[0])
args = p.parse_args()
torch.set_num_threads(2)


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8)[header:]


def load(split):
    x = read_idx(os.path.join(args.data_dir, f"{split}-images-idx3-ubyte.gz"), 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255.0
    y = read_idx(os.path.join(args.data_dir, f"{split}-labels-idx1-ubyte.gz"), 8).astype(np.int64)
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


xtr, ytr = load("train")
xte, yte = load("t10k")
if args.train_limit:
    xtr, ytr = xtr[: args.train_limit], ytr[: args.train_limit]
init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(args.model).graph.initializer}

accs = []
for seed in args.seeds:
    model = ResNet20()
    state = model.state_dict()
    model.load_state_dict({k: init[k].reshape(v.shape).to(v.dtype) if k in init else v for k, v in state.items()})
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    n = len(xtr)
    per_epoch = math.ceil(n / args.batch)
    total, warm = args.epochs * per_epoch, args.warmup_epochs * per_epoch

    def rate(t):  # Noether's LearningRateSchedule("cosine", lr, total, warm)
        if t < warm:
            return args.lr * (t + 1) / warm
        return max(args.lr * 0.5 * (1 + math.cos(math.pi * (t - warm) / (total - warm))), args.lr * 1e-12)

    g = torch.Generator().manual_seed(seed)
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        start, seen, loss_sum = time.perf_counter(), 0, 0.0
        for idx in torch.randperm(n, generator=g).split(args.batch):
            for group in opt.param_groups:
                group["lr"] = rate(step)
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = sum((model(xte[i:i + 500]).argmax(1) == yte[i:i + 500]).sum().item() for i in range(0, len(xte), 500))
        acc = correct / len(xte)
        print(f"seed {seed} epoch {epoch}: train loss {loss_sum / seen:.4f}, test accuracy {acc * 100:.2f}%, {seconds:.1f} s ({seconds / per_epoch * 1000:.0f} ms/step)", flush=True)
    accs.append(acc)
print(f"mean test accuracy over seeds {args.seeds}: {np.mean(accs) * 100:.2f}%")

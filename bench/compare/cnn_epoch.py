"""PyTorch twin of workload (b): one training epoch of the SPEC CNN on Fashion-MNIST, float32.

Model: conv 3x3, 1 -> 16 channels, padding 1 -> max-pool 2 -> flatten (16*14*14 = 3136) -> linear 3136 -> 32
-> LeakyReLU(0.01) -> linear 32 -> 10; mean cross-entropy on logits; Adam lr 1e-3; batch 128 over all
60,000 training images (the last batch has 96), shuffled with a seeded permutation; pixels scaled to
[0, 1]. Data: the IDX .gz files of Debian's dataset-fashion-mnist, parsed with gzip + numpy (no
torchvision). Timed: the epoch loop (shuffle, batch gather, forward, backward, Adam step). Untimed: data
loading, model/optimiser creation (before each run) and the test-set accuracy printed as a sanity check.
"""

import os

import numpy as np

import harness
from idx import read_idx

torch = harness.setup()
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def extra(p):
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)


args = harness.parse_args(__doc__, extra)


def load(split):
    d = args.data_dir
    images = os.path.join(d, f"{split}-images-idx3-ubyte.gz")
    labels = os.path.join(d, f"{split}-labels-idx1-ubyte.gz")
    for p in (images, labels):
        if not os.path.exists(p):
            harness.fail(f"{p} not found (Debian: sudo apt-get install dataset-fashion-mnist)")
    x = torch.from_numpy(read_idx(images).astype(np.float32) / 255.0).unsqueeze(1).contiguous()
    y = torch.from_numpy(read_idx(labels).astype(np.int64))
    return x, y


x_train, y_train = load("train")
x_test, y_test = load("t10k")


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 14 * 14, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        h = self.pool(self.conv(x)).flatten(1)
        return self.fc2(F.leaky_relu(self.fc1(h), 0.01))


state = {}


def fresh():
    torch.manual_seed(args.seed)
    state["model"] = Cnn()
    state["opt"] = torch.optim.Adam(state["model"].parameters(), lr=args.lr)


def epoch():
    model, opt = state["model"], state["opt"]
    model.train()
    n = x_train.shape[0]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed))
    loss = None
    for start in range(0, n, args.batch):
        idx = perm[start:start + args.batch]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
    return float(loss)


times, last_loss = harness.measure(epoch, args.runs, args.warmup, before=fresh)

model = state["model"]
model.eval()
with torch.no_grad():
    correct = sum(int((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum())
                  for i in range(0, x_test.shape[0], 1000))
result = {"workload": args.workload, **harness.summary(times), "last_batch_loss": last_loss,
          "test_accuracy": correct / x_test.shape[0],
          "variant": "nn.Module, torch.optim.Adam (default single-tensor), zero_grad(set_to_none=True)",
          "images": int(x_train.shape[0]), "batch": args.batch}
harness.write_result(args.out, result)

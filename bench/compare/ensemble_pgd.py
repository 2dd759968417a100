"""PyTorch twin of workload (e): a 10-member group ensemble of the SPEC CNN under PGD-10, float32.

The C# runner trains the SPEC CNN (conv 3x3 1->16 pad 1 -> max-pool 2 -> linear 3136->32 -> LeakyReLU -> linear
32->10), builds the 10 group members (hidden weight A V, hidden bias A b, output weight U pi; A = g) and writes the
model's weights and every member's (A, U pi) into the input bundle, so both sides evaluate the same members.
Timed: adaptive PGD on the 10,000 Fashion-MNIST test images in batches of 500 - loss = summed cross-entropy of the
members' averaged logits, L-inf eps = 8/255, step 2/255, 10 steps, uniform random start, projection onto the
eps-ball and [0, 1] after every step - then the ensemble's prediction on the adversarial images (mode of the
members' classes, ties to the smallest class). The members share the trunk (conv -> pool -> hidden linear), as on
the Noether side; the 10 heads are one batched product. Weights are plain tensors (no requires_grad), so backward
forms the input gradient only. Untimed: loading, building tensors. Check: the clean ensemble accuracy (same member
weights, deterministic) against Noether's; the adversarial accuracies differ only through the random starts.
"""

import os

import numpy as np

import harness
from idx import read_idx

torch = harness.setup()
import torch.nn.functional as F  # noqa: E402


def extra(p):
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--seed", type=int, default=0)


args = harness.parse_args(__doc__, extra)
if not args.inputs:
    harness.fail("ensemble_pgd.py needs --inputs (the C# runner writes the model and the members)")


images = os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz")
labels = os.path.join(args.data_dir, "t10k-labels-idx1-ubyte.gz")
for p in (images, labels):
    if not os.path.exists(p):
        harness.fail(f"{p} not found (Debian: sudo apt-get install dataset-fashion-mnist)")
x_test = torch.from_numpy(read_idx(images).astype(np.float32) / 255.0).unsqueeze(1).contiguous()
y_test = torch.from_numpy(read_idx(labels).astype(np.int64))

arrays, scalars = harness.read_bundle(args.inputs)
f32 = lambda name: torch.from_numpy(arrays[name].astype(np.float32)).contiguous()  # noqa: E731
conv_w, conv_b = f32("model_0.weight"), f32("model_0.bias")
hid_w, hid_b = f32("model_3.weight"), f32("model_3.bias")
out_b = f32("model_5.bias")
A = f32("members_A")            # [N, h, h]
U = f32("members_U")            # [N, C, h]
N, h, _ = A.shape
C = U.shape[1]
A_stack = A.reshape(N * h, h).t().contiguous()   # H [B, h] @ A_stack -> [B, N*h]: member m's pre-activation H A_m^T
U_t = U.transpose(1, 2).contiguous()             # [N, h, C]
eps, alpha, steps = float(scalars["epsilon"]), float(scalars["step_size"]), int(scalars["steps"])
batch, slope = int(scalars["batch"]), float(scalars["leaky_slope"])


def member_logits(x):
    """[B, N, C]: shared trunk, then the N heads as one batched product."""
    hidden = F.linear(F.max_pool2d(F.conv2d(x, conv_w, conv_b, padding=1), 2).flatten(1), hid_w, hid_b)
    z = F.leaky_relu(hidden @ A_stack, slope).reshape(-1, N, h)          # [B, N, h]
    return torch.bmm(z.transpose(0, 1), U_t).transpose(0, 1) + out_b      # [B, N, C]


def mode_vote(logits):
    votes = F.one_hot(logits.argmax(2), C).sum(1)                        # [B, C]
    return votes.argmax(1)                                                # first (smallest) class on ties


def pgd(x, y, generator):
    lo, hi = (x - eps).clamp_(min=0), (x + eps).clamp_(max=1)
    xa = torch.min(torch.max(x + (torch.rand(x.shape, generator=generator) * 2 - 1) * eps, lo), hi)
    for _ in range(steps):
        xa.requires_grad_(True)
        loss = F.cross_entropy(member_logits(xa).mean(1), y, reduction="sum")
        grad, = torch.autograd.grad(loss, xa)
        with torch.no_grad():
            xa = torch.min(torch.max(xa + alpha * grad.sign(), lo), hi)
    return xa.detach()


state = {"run": 0}


def attack_and_evaluate():
    generator = torch.Generator().manual_seed(args.seed + state["run"])
    state["run"] += 1
    correct = 0
    for start in range(0, x_test.shape[0], batch):
        x, y = x_test[start:start + batch], y_test[start:start + batch]
        xa = pgd(x, y, generator)
        with torch.no_grad():
            correct += int((mode_vote(member_logits(xa)) == y).sum())
    return correct / x_test.shape[0]


with torch.no_grad():
    clean = sum(int((mode_vote(member_logits(x_test[i:i + 1000])) == y_test[i:i + 1000]).sum())
                for i in range(0, x_test.shape[0], 1000)) / x_test.shape[0]

times, adversarial = harness.measure(attack_and_evaluate, args.runs, args.warmup)
result = {"workload": args.workload, **harness.summary(times),
          "clean_ensemble_accuracy": clean, "adversarial_ensemble_accuracy": adversarial,
          "variant": "shared trunk + one bmm for the 10 heads, torch.autograd.grad w.r.t. the input only",
          "images": int(x_test.shape[0]), "members": int(N), "threat_model": "adaptive (averaged logits)"}
if args.noether:
    noether, _ = harness.read_bundle(args.noether)
    result["check"] = {"what": "clean mode-vote accuracy of the same 10 members: |PyTorch - Noether|",
                       "max_abs_diff": abs(clean - float(noether["clean_accuracy"][0])), "max_abs_value": 1.0,
                       "adversarial_accuracy_noether": float(noether["adversarial_accuracy"][0]),
                       "adversarial_accuracy_pytorch": adversarial}
harness.write_result(args.out, result)

#!/usr/bin/python3
"""Dead and always-on channels of the ResNet-20 fixture on N(0, 1) inputs, counted in PyTorch (an independent check of
the dead-unit accounting of `noether symmetries --discover`; docs/census.md). Run from the repository root:
/usr/bin/python3 scripts/resnet20_dead_units.py"""
import sys, os, numpy as np, torch, onnx
from onnx import numpy_helper
sys.path.insert(0, "tests/fixtures/onnx")
from make_zoo import ResNet20
torch.set_num_threads(1)
m = ResNet20().double()
init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load("tests/fixtures/onnx/resnet20.onnx").graph.initializer}
sd = m.state_dict()
for k in sd:
    if k in init: sd[k] = init[k].to(sd[k].dtype)
m.load_state_dict(sd); m.eval()
acts = {}
def hook(name):
    def f(mod, inp, out): acts.setdefault(name, []).append(out.detach())
    return f
for blk in ["layer2.1", "layer2.2", "layer3.0", "layer3.1", "layer3.2"]:
    dict(m.named_modules())[blk + ".bn1"].register_forward_hook(hook(blk))
feats = []
m.fc.register_forward_hook(lambda mod, inp, out: feats.append(inp[0].detach()))
g = torch.Generator().manual_seed(0)
with torch.no_grad():
    for _ in range(8):
        m(torch.randn(128, 1, 28, 28, generator=g, dtype=torch.float64))
f = torch.cat(feats)
print("fc input: channels identically zero over 1024 inputs:", int((f.abs().max(0).values == 0).sum()), "of", f.shape[1])
for blk, a in acts.items():
    a = torch.cat(a)               # pre-ReLU [N, C, H, W]
    pos = (a > 0).double().mean(dim=(0, 2, 3))
    dead = int((pos == 0).sum()); on = int((pos == 1).sum())
    print(f"{blk}.bn1 → ReLU: {a.shape[1]} channels; dead (never > 0) {dead}; always on (never ≤ 0) {on}; "
          f"fraction on: min {pos.min():.3f} median {pos.median():.3f} max {pos.max():.3f}")

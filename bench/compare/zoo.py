"""The ONNX fixtures' PyTorch classes (tests/fixtures/onnx/make_zoo.py) with a fixture file's weights loaded.

The initializers of a PRESERVE export are named by the module's state_dict keys, so the model gets exactly the
weights (and BatchNorm running statistics) Noether imports from the same file.
"""
import math
import os
import sys
import types

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "onnx")


def float32(v):
    import numpy as np
    return float(np.float32(v))


def use_file_constants(torch, make_zoo, model):
    """The constants as the exported file holds them, for float64 comparisons to 1e-10: the export stores GELU's sqrt(2),
    attention's sqrt(head_dim) and the normalisation epsilons in float32 (Noether computes with those), PyTorch's
    float64 model with the exact values (a 1e-8 relative difference in the transformer's H v)."""
    sqrt2 = float32(math.sqrt(2.0))
    functional = types.SimpleNamespace(**vars(torch.nn.functional))
    # ONNX's GELU at opset 17 from torch 1.13: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5).
    functional.gelu = lambda x: x * (torch.erf(x / sqrt2) + 1) * 0.5
    make_zoo.F = functional
    make_zoo.math = types.SimpleNamespace(sqrt=lambda v: float32(math.sqrt(v)))
    for m in model.modules():
        if hasattr(m, "eps") and isinstance(m.eps, float):
            m.eps = float32(m.eps)


def load(torch, path, dtype):
    """(model, initializer names not used) for resnet20*.onnx or transformer*.onnx, in `dtype` (float64: with the file's
    float32 constants, see use_file_constants)."""
    import onnx
    from onnx import numpy_helper
    sys.path.insert(0, FIXTURES)
    import make_zoo  # noqa: E402
    from make_zoo import ResNet20, Transformer  # noqa: E402
    base = os.path.basename(path)
    if base.startswith("resnet20"):
        model = ResNet20()
    elif base.startswith("transformer"):
        model = Transformer()
    else:
        raise SystemExit(f"error: no PyTorch class for {base} (resnet20*.onnx or transformer*.onnx)")
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in init and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"error: {base} lacks initializers for {missing[:5]}")
    model.load_state_dict({k: init[k].reshape(v.shape).to(v.dtype) if k in init else v for k, v in state.items()})
    if dtype == torch.float64:
        use_file_constants(torch, make_zoo, model)
    return model.to(dtype), sorted(set(init) - set(state))


def fixture_batch(torch, harness, description, script):
    """The command line of a float64 imported-model twin (--model plus the harness's options), the runner's bundle, the
    make_zoo.py model with the file's initializers in eval() mode (BatchNorm on running statistics) and the batch.

    Returns (args, arrays, scalars, model, unused initializers, images, labels)."""
    def extra(p):
        p.add_argument("--model", required=True, help="a tests/fixtures/onnx model (resnet20*.onnx, transformer*.onnx)")

    args = harness.parse_args(description, extra)
    if not args.inputs:
        harness.fail(f"{script} needs --inputs (the C# runner writes them)")
    arrays, scalars = harness.read_bundle(args.inputs)
    model, unused = load(torch, args.model, torch.float64)
    model.eval()
    x = torch.from_numpy(arrays["images"].copy())
    y = torch.from_numpy(arrays["labels"].astype("int64"))
    return args, arrays, scalars, model, unused, x, y

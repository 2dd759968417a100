"""The ONNX fixtures' PyTorch classes (tests/fixtures/onnx/make_zoo.py) with a fixture file's weights loaded.

The initializers of a PRESERVE export are named by the module's state_dict keys, so the model gets exactly the
weights (and BatchNorm running statistics) Noether imports from the same file.
"""
import os
import sys

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "onnx")


def load(torch, path, dtype):
    """(model, initializer names not used) for resnet20*.onnx or transformer*.onnx, in `dtype`."""
    import onnx
    from onnx import numpy_helper
    sys.path.insert(0, FIXTURES)
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
    return model.to(dtype), sorted(set(init) - set(state))

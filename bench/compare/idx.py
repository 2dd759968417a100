"""IDX files (MNIST / Fashion-MNIST), optionally gzipped, for the twins that read the dataset themselves."""

import gzip
import struct

import numpy as np

import harness


def read_idx(path):
    """The array in an unsigned-byte IDX file: magic 0x00000801 (labels) or 0x00000803 (images), big-endian dims."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        harness.fail(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        harness.fail(f"{path}: expected {int(np.prod(dims))} values for dims {dims}, found {body.size}")
    return body.reshape(dims)

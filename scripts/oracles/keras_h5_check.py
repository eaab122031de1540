#!/usr/bin/env python3
"""Reads a weights file the way Keras's legacy HDF5 loader (keras/saving/legacy/hdf5_format.py,
load_weights_from_hdf5_group_by_name) reads it, with h5py and numpy only, and prints what it found as JSON:
the root attributes, layer_names, and per layer group its weight_names and, for each weight, the dataset's
shape, dtype and the SHA-256 of its values as little-endian float32 in C order.

usage: keras_h5_check.py FILE.h5   (exit status 0; 3 when h5py or numpy is missing)
"""
import hashlib
import json
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # the test skips with this message
    print("missing python module: %s" % e)
    sys.exit(3)


def load_attributes(group, name):
    """Keras's load_attributes_from_hdf5_group: one attribute, or name0, name1, ... when it was split."""
    if name in group.attrs:
        return [n.decode("utf8") if hasattr(n, "decode") else n for n in group.attrs[name]]
    data = []
    chunk = 0
    while "%s%d" % (name, chunk) in group.attrs:
        data.extend(n.decode("utf8") if hasattr(n, "decode") else n for n in group.attrs["%s%d" % (name, chunk)])
        chunk += 1
    return data


def text(v):
    return v.decode("utf8") if hasattr(v, "decode") else str(v)


def main(path):
    out = {}
    with h5py.File(path, "r") as f:
        if "keras_version" not in f.attrs:
            raise SystemExit("no keras_version attribute: Keras would treat the file as Keras 1")
        out["keras_version"] = text(f.attrs["keras_version"])
        out["backend"] = text(f.attrs["backend"])
        out["layer_names"] = load_attributes(f, "layer_names")
        out["split_attributes"] = sorted(k for k in f.attrs.keys() if k.startswith("layer_names") and k != "layer_names")
        groups = {}
        for name in out["layer_names"]:
            g = f[name]  # Keras: g = f[name]; weight_names = load_attributes_from_hdf5_group(g, "weight_names")
            weights = []
            for w in load_attributes(g, "weight_names"):
                d = np.asarray(g[w])
                weights.append({
                    "name": w,
                    "shape": list(d.shape),
                    "dtype": str(d.dtype),
                    "sha256": hashlib.sha256(np.ascontiguousarray(d, dtype="<f4").tobytes()).hexdigest(),
                })
            groups[name] = weights
        out["groups"] = groups
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

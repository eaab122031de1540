#!/usr/bin/python3
"""An independent implementation of Keras's ResNet50 (v1) in numpy, double precision, to check the library's:
it draws seeded weights and batch-norm statistics for every layer, writes them in the layout Keras's
model.save_weights uses (root attribute layer_names; per layer group weight_names; datasets layer/layer/kernel:0,
bias:0, gamma:0, beta:0, moving_mean:0, moving_variance:0; kernels (kh, kw, in, out)), runs the network on seeded
images at two sizes, and writes the inputs and the outputs of conv5_block3_out to a second HDF5 file.

    /usr/bin/python3 scripts/oracles/resnet_keras_oracle.py OUT_DIR [--blocks 3,4,6,3]

Writes OUT_DIR/resnet_weights.h5 and OUT_DIR/resnet_io.h5 (datasets x64, y64, x96, y96). Needs numpy and h5py
(Debian: python3-numpy python3-h5py). Nothing here comes from the library: the architecture follows
keras/applications/resnet.py (stack1/block1, epsilon 1.001e-5, biases on every convolution).
"""
import argparse
import sys

import h5py
import numpy as np

EPS = 1.001e-5


def conv(x, k, b, stride=1, pad=(0, 0, 0, 0)):
    """x (n, h, w, c), k (kh, kw, c, o): a "valid" convolution after explicit zero padding (top, bottom, left, right)."""
    x = np.pad(x, ((0, 0), (pad[0], pad[1]), (pad[2], pad[3]), (0, 0)))
    kh, kw, _, o = k.shape
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]
            out += np.tensordot(patch, k[i, j], axes=([3], [0]))
    return out + b


def max_pool(x, size, stride):
    n, h, w, c = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.full((n, oh, ow, c), -np.inf)
    for i in range(size):
        for j in range(size):
            out = np.maximum(out, x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :])
    return out


class Weights:
    """Seeded weights, remembered in Keras's layer order for the file."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.layers = []  # (name, [(weight name, array)])

    @staticmethod
    def f32(a):
        """The values the float32 file holds, kept in double precision for the forward pass."""
        return a.astype(np.float32).astype(np.float64)

    def conv(self, name, kh, kw, cin, cout):
        k = self.f32(self.rng.normal(0, np.sqrt(2.0 / (kh * kw * cin)), (kh, kw, cin, cout)))
        b = self.f32(self.rng.normal(0, 0.05, cout))
        self.layers.append((name, [("kernel:0", k), ("bias:0", b)]))
        return k, b

    def bn(self, name, c):
        g = self.f32(self.rng.uniform(0.5, 1.5, c))
        beta = self.f32(self.rng.normal(0, 0.1, c))
        mean = self.f32(self.rng.normal(0, 0.1, c))
        var = self.f32(self.rng.uniform(0.5, 1.5, c))
        self.layers.append((name, [("gamma:0", g), ("beta:0", beta), ("moving_mean:0", mean), ("moving_variance:0", var)]))
        return g, beta, mean, var


def bn(x, p):
    g, beta, mean, var = p
    return (x - mean) / np.sqrt(var + EPS) * g + beta


def build(blocks, seed):
    """The weights of every layer and a function computing conv5_block3_out (no top)."""
    w = Weights(seed)
    plan = [("conv1", w.conv("conv1_conv", 7, 7, 3, 64), w.bn("conv1_bn", 64))]
    stages = []
    cin = 64
    for s, (filters, count) in enumerate(zip([64, 128, 256, 512], blocks)):
        stage = []
        for bi in range(1, count + 1):
            n = f"conv{s + 2}_block{bi}"
            stride = (1 if s == 0 else 2) if bi == 1 else 1
            short = (w.conv(n + "_0_conv", 1, 1, cin, 4 * filters), w.bn(n + "_0_bn", 4 * filters)) if bi == 1 else None
            c1 = (w.conv(n + "_1_conv", 1, 1, cin, filters), w.bn(n + "_1_bn", filters))
            c2 = (w.conv(n + "_2_conv", 3, 3, filters, filters), w.bn(n + "_2_bn", filters))
            c3 = (w.conv(n + "_3_conv", 1, 1, filters, 4 * filters), w.bn(n + "_3_bn", 4 * filters))
            stage.append((stride, short, c1, c2, c3))
            cin = 4 * filters
        stages.append(stage)

    def forward(x):
        _, (k, b), p = plan[0]
        x = np.maximum(bn(conv(x, k, b, 2, (3, 3, 3, 3)), p), 0)
        x = max_pool(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), 3, 2)
        for stage in stages:
            for stride, short, c1, c2, c3 in stage:
                sc = x if short is None else bn(conv(x, *short[0], stride), short[1])
                y = np.maximum(bn(conv(x, *c1[0], stride), c1[1]), 0)
                y = np.maximum(bn(conv(y, *c2[0], 1, (1, 1, 1, 1)), c2[1]), 0)
                y = bn(conv(y, *c3[0]), c3[1])
                x = np.maximum(sc + y, 0)
        return x

    return w.layers, forward


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--blocks", default="3,4,6,3")
    a = p.parse_args()
    blocks = [int(v) for v in a.blocks.split(",")]
    layers, forward = build(blocks, seed=50)
    with h5py.File(f"{a.out}/resnet_weights.h5", "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.11.0"
        for name, ws in layers:
            g = f.create_group(name)
            g.attrs["weight_names"] = np.array([f"{name}/{wn}".encode() for wn, _ in ws])
            inner = g.create_group(name)
            for wn, arr in ws:
                inner.create_dataset(wn, data=arr.astype(np.float32))
    rng = np.random.default_rng(7)
    with h5py.File(f"{a.out}/resnet_io.h5", "w") as f:
        for size in (64, 96):
            x = rng.uniform(-1, 1, (2, size, size, 3))
            # the network in double precision on the float32 values the library sees
            x32 = x.astype(np.float32)
            y = forward(x32.astype(np.float64))
            f.create_dataset(f"x{size}", data=x32)
            f.create_dataset(f"y{size}", data=y.astype(np.float32))
    print(f"wrote {len(layers)} layers and outputs at 64 and 96 to {a.out}")


if __name__ == "__main__":
    sys.exit(main())

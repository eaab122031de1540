#!/usr/bin/python3
"""An independent implementation of Keras's EfficientNetB0 (no top) in numpy, double precision, to check the
library's: it draws seeded weights and batch-norm statistics for every layer, writes them in the layout Keras's
model.save_weights uses (root attribute layer_names; per layer group weight_names; datasets layer/layer/kernel:0,
depthwise_kernel:0, bias:0, gamma:0, beta:0, moving_mean:0, moving_variance:0, and the normalization layer's mean:0,
variance:0 and an int64 count:0 as TF 2.3 saved it), runs the network on seeded 0-255 images at two sizes, and writes
the inputs and the outputs of top_activation to a second HDF5 file.

    /usr/bin/python3 scripts/oracles/efficientnet_keras_oracle.py OUT_DIR

Writes OUT_DIR/efficientnet_weights.h5 (random normalization statistics), OUT_DIR/efficientnet_published_layout.h5
(the same weights, but the normalization holding the ImageNet mean and, as Keras's published files do
(tensorflow/tensorflow#49930), the ImageNet standard deviations as "variance") and OUT_DIR/efficientnet_io.h5:
x32, y32, x64, y64 (the first file) and yp32 (the second file, computed as the original EfficientNet normalizes:
(x / 255 - mean) / std). Its attributes counts_top and counts_notop hold the parameter counts of B0..B7 with and
without the top, from this script's own reading of efficientnet.py. Needs numpy and h5py (Debian: python3-numpy
python3-h5py). Nothing here comes from the library.
"""
import argparse
import math
import sys

import h5py
import numpy as np

EPS = 1e-3  # Keras's BatchNormalization default
# kernel, repeats, filters_in, filters_out, expand_ratio, strides (id_skip True, se_ratio 0.25 for all)
BLOCKS = [(3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
          (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1)]
VARIANTS = [(1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4), (1.4, 1.8), (1.6, 2.2), (1.8, 2.6), (2.0, 3.1)]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def round_filters(f, width, divisor=8):
    f *= width
    new = max(divisor, int(f + divisor / 2) // divisor * divisor)
    if new < 0.9 * f:
        new += divisor
    return int(new)


def round_repeats(r, depth):
    return int(math.ceil(depth * r))


def block_list(width, depth):
    """(name, kernel, filters_in, filters_out, expand, stride, drop_rate) of every block."""
    out = []
    total = float(sum(round_repeats(b[1], depth) for b in BLOCKS))
    n = 0
    for i, (k, rep, fin, fout, e, s) in enumerate(BLOCKS):
        fin, fout = round_filters(fin, width), round_filters(fout, width)
        for j in range(round_repeats(rep, depth)):
            out.append((f"block{i + 1}{chr(97 + j)}_", k, fin if j == 0 else fout, fout, e, s if j == 0 else 1,
                        0.2 * n / total))
            n += 1
    return out


def count_params(width, depth, top):
    """Keras's count_params for the variant: weights (and non-trainable statistics) layer by layer."""
    total = 3 + 3 + 1  # normalization: mean, variance, count
    c = round_filters(32, width)
    total += 3 * 3 * 3 * c + 4 * c
    for _, k, fin, fout, e, s, _ in block_list(width, depth):
        f = fin * e
        if e != 1:
            total += fin * f + 4 * f
        total += k * k * f + 4 * f
        se = max(1, int(fin * 0.25))
        total += f * se + se + se * f + f
        total += f * fout + 4 * fout
        c = fout
    last = round_filters(1280, width)
    total += c * last + 4 * last
    if top:
        total += last * 1000 + 1000
    return total


def swish(x):
    return x / (1 + np.exp(-x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def correct_pad(x, k):
    h, w = x.shape[1], x.shape[2]
    c = k // 2
    return c - (1 - h % 2), c, c - (1 - w % 2), c


def conv(x, k, b=None, stride=1, pad=(0, 0, 0, 0)):
    """x (n, h, w, c), k (kh, kw, c, o): "valid" after explicit zero padding (top, bottom, left, right)."""
    x = np.pad(x, ((0, 0), (pad[0], pad[1]), (pad[2], pad[3]), (0, 0)))
    kh, kw, _, o = k.shape
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]
            out += np.tensordot(patch, k[i, j], axes=([3], [0]))
    return out if b is None else out + b


def depthwise(x, k, stride=1, pad=(0, 0, 0, 0)):
    """k (kh, kw, c, 1): each channel with its own kernel."""
    x = np.pad(x, ((0, 0), (pad[0], pad[1]), (pad[2], pad[3]), (0, 0)))
    kh, kw, _, _ = k.shape
    n, h, w, c = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(kh):
        for j in range(kw):
            out += x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :] * k[i, j, :, 0]
    return out


def same_pad(size, k, s):
    """TensorFlow's "same": total max((out - 1) * s + k - size, 0), the smaller half before."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Weights:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.layers = []  # (name, [(weight name, array)])
        self.by_name = {}

    @staticmethod
    def f32(a):
        return a.astype(np.float32).astype(np.float64)

    def add(self, name, ws):
        self.layers.append((name, ws))
        self.by_name[name] = [a for _, a in ws]
        return self.by_name[name]

    def conv(self, name, kh, kw, cin, cout, bias=False):
        k = self.f32(self.rng.normal(0, math.sqrt(2.0 / (kh * kw * cin)), (kh, kw, cin, cout)))
        ws = [("kernel:0", k)]
        if bias:
            ws.append(("bias:0", self.f32(self.rng.normal(0, 0.1, cout))))
        return self.add(name, ws)

    def dw(self, name, k, c):
        return self.add(name, [("depthwise_kernel:0", self.f32(self.rng.normal(0, math.sqrt(2.0 / (k * k)), (k, k, c, 1))))])

    def bn(self, name, c):
        return self.add(name, [("gamma:0", self.f32(self.rng.uniform(0.5, 1.5, c))),
                               ("beta:0", self.f32(self.rng.normal(0, 0.1, c))),
                               ("moving_mean:0", self.f32(self.rng.normal(0, 0.1, c))),
                               ("moving_variance:0", self.f32(self.rng.uniform(0.5, 1.5, c)))])


def bn(x, p):
    g, beta, mean, var = p
    return (x - mean) / np.sqrt(var + EPS) * g + beta


def build(seed):
    """B0's weights, and the forward pass to top_activation given the normalization's scale (1/std) per channel."""
    w = Weights(seed)
    mean = w.f32(w.rng.uniform(0.3, 0.6, 3))
    var = w.f32(w.rng.uniform(0.03, 0.09, 3))
    w.add("normalization", [("mean:0", mean), ("variance:0", var), ("count:0", np.int64(1234))])
    w.conv("stem_conv", 3, 3, 3, 32)
    w.bn("stem_bn", 32)
    blocks = block_list(1.0, 1.0)
    for n, k, fin, fout, e, s, _ in blocks:
        f = fin * e
        if e != 1:
            w.conv(n + "expand_conv", 1, 1, fin, f)
            w.bn(n + "expand_bn", f)
        w.dw(n + "dwconv", k, f)
        w.bn(n + "bn", f)
        se = max(1, int(fin * 0.25))
        w.conv(n + "se_reduce", 1, 1, f, se, bias=True)
        w.conv(n + "se_expand", 1, 1, se, f, bias=True)
        w.conv(n + "project_conv", 1, 1, f, fout)
        w.bn(n + "project_bn", fout)
    w.conv("top_conv", 1, 1, 320, 1280)
    w.bn("top_bn", 1280)
    p = w.by_name

    def forward(x, norm_mean, norm_std):
        x = (x / 255.0 - norm_mean) / norm_std
        x = swish(bn(conv(x, p["stem_conv"][0], stride=2, pad=correct_pad(x, 3)), p["stem_bn"]))
        for n, k, fin, fout, e, s, _ in blocks:
            inp = x
            if e != 1:
                x = swish(bn(conv(x, p[n + "expand_conv"][0]), p[n + "expand_bn"]))
            if s == 2:
                pad = correct_pad(x, k)
            else:
                ph, pw = same_pad(x.shape[1], k, 1), same_pad(x.shape[2], k, 1)
                pad = (ph[0], ph[1], pw[0], pw[1])
            x = swish(bn(depthwise(x, p[n + "dwconv"][0], s, pad), p[n + "bn"]))
            se = x.mean(axis=(1, 2), keepdims=True)
            se = swish(conv(se, *p[n + "se_reduce"]))
            se = sigmoid(conv(se, *p[n + "se_expand"]))
            x = x * se
            x = bn(conv(x, p[n + "project_conv"][0]), p[n + "project_bn"])
            if s == 1 and fin == fout:
                x = x + inp  # drop-connect is the identity at inference
        return swish(bn(conv(x, p["top_conv"][0]), p["top_bn"]))

    return w.layers, forward, mean, np.sqrt(var)


def write_weights(path, layers):
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.4.0"
        for name, ws in layers:
            g = f.create_group(name)
            g.attrs["weight_names"] = np.array([f"{name}/{wn}".encode() for wn, _ in ws])
            inner = g.create_group(name)
            for wn, arr in ws:
                inner.create_dataset(wn, data=arr if isinstance(arr, np.integer) else np.asarray(arr, dtype=np.float32))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    a = p.parse_args()
    layers, forward, mean, std = build(seed=2019)
    write_weights(f"{a.out}/efficientnet_weights.h5", layers)
    published = [(n, [("mean:0", np.array(IMAGENET_MEAN)), ("variance:0", np.array(IMAGENET_STD)),
                      ("count:0", np.int64(0))]) if n == "normalization" else (n, ws) for n, ws in layers]
    write_weights(f"{a.out}/efficientnet_published_layout.h5", published)
    rng = np.random.default_rng(7)
    with h5py.File(f"{a.out}/efficientnet_io.h5", "w") as f:
        for size in (32, 64):
            x = np.round(rng.uniform(0, 255, (2, size, size, 3)))
            f.create_dataset(f"x{size}", data=x.astype(np.float32))
            f.create_dataset(f"y{size}", data=forward(x, mean, std).astype(np.float32))
            if size == 32:
                # the published layout, normalized as the original EfficientNet does: (x / 255 - mean) / std, with
                # mean and std as the float32 file holds them
                m32 = np.array(IMAGENET_MEAN, dtype=np.float32).astype(np.float64)
                s32 = np.array(IMAGENET_STD, dtype=np.float32).astype(np.float64)
                f.create_dataset("yp32", data=forward(x, m32, s32).astype(np.float32))
        f.attrs["counts_top"] = np.array([count_params(wd, dp, True) for wd, dp in VARIANTS], dtype=np.int64)
        f.attrs["counts_notop"] = np.array([count_params(wd, dp, False) for wd, dp in VARIANTS], dtype=np.int64)
    print(f"wrote {len(layers)} layers and outputs at 32 and 64 to {a.out}; counts with top "
          f"{[count_params(wd, dp, True) for wd, dp in VARIANTS]}")


if __name__ == "__main__":
    sys.exit(main())

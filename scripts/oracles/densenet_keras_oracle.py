#!/usr/bin/python3
"""An independent implementation of Keras's DenseNet (no top) in numpy, double precision, to check the library's:
it draws seeded weights and batch-norm statistics for every layer, writes them in the layout of Keras 2's
model.save_weights with the names the published DenseNet files hold (conv1/conv, conv1/bn as nested HDF5 groups;
conv2_block1_0_bn ...; the layers without weights too), runs the network on seeded images at two sizes, and writes
the inputs and the outputs of the last layer (relu) to a second HDF5 file.

    /usr/bin/python3 scripts/oracles/densenet_keras_oracle.py OUT_DIR [--blocks 6,12,24,16] [--sizes 32,64]
                     [--epsilon 1.001e-5]

Writes OUT_DIR/densenet_weights.h5 and OUT_DIR/densenet_io.h5 (datasets x32, y32, x64, y64). Needs numpy and h5py.
The architecture follows keras/src/applications/densenet.py: ZeroPadding2D 3, conv1 7x7/2 without bias, batch norm,
ReLU, ZeroPadding2D 1, MaxPooling2D 3/2; dense blocks of BN-ReLU-1x1 conv (128) - BN-ReLU-3x3 "same" conv (32)
concatenated to the input; transitions BN-ReLU-1x1 conv to half the channels - AveragePooling2D 2/2; a last BN and
ReLU; no convolution has a bias; epsilon 1.001e-5. --epsilon exists to show that a wrong one is caught.
"""
import argparse
import sys

import numpy as np

from keras_numpy import Weights, avg_pool, batch_norm, conv, max_pool, pad, relu, write_io, write_weights

GROWTH = 32


def build(blocks, seed, eps):
    """The layers (Keras's order, with the 2018 files' names) and a function computing the output of relu."""
    w = Weights(seed)
    w.none("input_1")
    w.none("zero_padding2d_1")  # unnamed in densenet.py: Keras 2.2 numbered it from 1
    stem = (w.conv("conv1/conv", 7, 7, 3, 64, bias=False), w.bn("conv1/bn", 64))
    w.none("conv1/relu")
    w.none("zero_padding2d_2")
    w.none("pool1")
    stages = []
    c = 64
    for s, count in enumerate(blocks):
        stage = {"blocks": [], "transition": None}
        for i in range(1, count + 1):
            n = f"conv{s + 2}_block{i}"
            bn0 = w.bn(n + "_0_bn", c)
            w.none(n + "_0_relu")
            k1, _ = w.conv(n + "_1_conv", 1, 1, c, 4 * GROWTH, bias=False)
            bn1 = w.bn(n + "_1_bn", 4 * GROWTH)
            w.none(n + "_1_relu")
            k2, _ = w.conv(n + "_2_conv", 3, 3, 4 * GROWTH, GROWTH, bias=False)
            w.none(n + "_concat")
            stage["blocks"].append((bn0, k1, bn1, k2))
            c += GROWTH
        if s < len(blocks) - 1:
            n = f"pool{s + 2}"
            bn_t = w.bn(n + "_bn", c)
            w.none(n + "_relu")
            k_t, _ = w.conv(n + "_conv", 1, 1, c, c // 2, bias=False)
            w.none(n + "_pool")
            stage["transition"] = (bn_t, k_t)
            c //= 2
        stages.append(stage)
    last = w.bn("bn", c)
    w.none("relu")

    def forward(x):
        (k, _), p = stem
        x = relu(batch_norm(conv(x, k, None, 2, (3, 3, 3, 3)), p, eps))
        x = max_pool(pad(x, 1, 1, 1, 1), 3, 2)
        for stage in stages:
            for bn0, k1, bn1, k2 in stage["blocks"]:
                y = conv(relu(batch_norm(x, bn0, eps)), k1)
                y = conv(relu(batch_norm(y, bn1, eps)), k2, None, 1, (1, 1, 1, 1))
                x = np.concatenate([x, y], axis=3)
            if stage["transition"] is not None:
                bn_t, k_t = stage["transition"]
                x = avg_pool(conv(relu(batch_norm(x, bn_t, eps)), k_t), 2, 2)
        return relu(batch_norm(x, last, eps))

    return w.layers, forward


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--blocks", default="6,12,24,16")
    p.add_argument("--sizes", default="32,64")
    p.add_argument("--epsilon", type=float, default=1.001e-5)
    a = p.parse_args()
    blocks = [int(v) for v in a.blocks.split(",")]
    sizes = [int(v) for v in a.sizes.split(",")]
    layers, forward = build(blocks, seed=121, eps=a.epsilon)
    write_weights(f"{a.out}/densenet_weights.h5", layers)
    write_io(f"{a.out}/densenet_io.h5", forward, sizes)
    print(f"wrote {len(layers)} layers ({sum(1 for _, ws in layers if ws)} with weights) and outputs at {sizes} to {a.out}")


if __name__ == "__main__":
    sys.exit(main())

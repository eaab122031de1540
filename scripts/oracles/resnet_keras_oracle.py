#!/usr/bin/python3
"""An independent implementation of Keras's ResNet (v1: ResNet50/101/152; v2: ResNet50V2/101V2/152V2) in numpy,
double precision, to check the library's: it draws seeded weights and batch-norm statistics for every layer, writes
them in the layout Keras's model.save_weights uses (root attribute layer_names; per layer group weight_names; datasets
layer/layer/kernel:0, bias:0, gamma:0, beta:0, moving_mean:0, moving_variance:0; kernels (kh, kw, in, out)), runs
the network on seeded images at two sizes, and writes the inputs and the outputs of the last layer without top
(v1: conv5_block3_out; v2: post_relu) to a second HDF5 file.

    /usr/bin/python3 scripts/oracles/resnet_keras_oracle.py OUT_DIR [--variant v1|v2] [--blocks 3,4,6,3]
                     [--sizes 64,96] [--epsilon 1.001e-5]

Writes OUT_DIR/resnet_weights.h5 and OUT_DIR/resnet_io.h5 (datasets x64, y64, x96, y96 for the default sizes).
Needs numpy and h5py (Debian: python3-numpy python3-h5py). Nothing here comes from the library: the architecture
follows keras/src/applications/resnet.py: v1 (stack1/block1: the stride on the first 1x1 convolution of a stage's
first block, biases on every convolution, batch norm after each); v2 (residual_block_v2 / stack_residual_blocks_v2:
pre-activation batch norm and ReLU, a 1x1 convolution shortcut on the preactivation in a stage's first block, a 1x1
max pooling with the stride as the shortcut of the last block, the stride on its 3x3 convolution after explicit
padding, no bias on the 1x1 and 3x3 bottleneck convolutions, post_bn and post_relu at the end); epsilon 1.001e-5.
"""
import argparse
import sys

from keras_numpy import Weights, batch_norm, conv, max_pool, pad, relu, write_io, write_weights

FILTERS = [64, 128, 256, 512]


def build_v1(blocks, seed, eps):
    """The weights of every layer and a function computing conv5_block3_out (no top)."""
    w = Weights(seed)
    stem = (w.conv("conv1_conv", 7, 7, 3, 64), w.bn("conv1_bn", 64))
    stages = []
    cin = 64
    for s, (filters, count) in enumerate(zip(FILTERS, blocks)):
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
        (k, b), p = stem
        x = relu(batch_norm(conv(x, k, b, 2, (3, 3, 3, 3)), p, eps))
        x = max_pool(pad(x, 1, 1, 1, 1), 3, 2)
        for stage in stages:
            for stride, short, c1, c2, c3 in stage:
                sc = x if short is None else batch_norm(conv(x, *short[0], stride), short[1], eps)
                y = relu(batch_norm(conv(x, *c1[0], stride), c1[1], eps))
                y = relu(batch_norm(conv(y, *c2[0], 1, (1, 1, 1, 1)), c2[1], eps))
                y = batch_norm(conv(y, *c3[0]), c3[1], eps)
                x = relu(sc + y)
        return x

    return w.layers, forward


def build_v2(blocks, seed, eps):
    """The weights of every layer and a function computing post_relu (no top)."""
    w = Weights(seed)
    stem = w.conv("conv1_conv", 7, 7, 3, 64)
    stages = []
    cin = 64
    for s, (filters, count) in enumerate(zip(FILTERS, blocks)):
        stride1 = 1 if s == 3 else 2
        stage = []
        for bi in range(1, count + 1):
            n = f"conv{s + 2}_block{bi}"
            stride = stride1 if bi == count else 1
            pre = w.bn(n + "_preact_bn", cin)
            short = w.conv(n + "_0_conv", 1, 1, cin, 4 * filters) if bi == 1 else None
            k1, _ = w.conv(n + "_1_conv", 1, 1, cin, filters, bias=False)
            bn1 = w.bn(n + "_1_bn", filters)
            k2, _ = w.conv(n + "_2_conv", 3, 3, filters, filters, bias=False)
            bn2 = w.bn(n + "_2_bn", filters)
            c3 = w.conv(n + "_3_conv", 1, 1, filters, 4 * filters)
            stage.append((stride, pre, short, k1, bn1, k2, bn2, c3))
            cin = 4 * filters
        stages.append(stage)
    post = w.bn("post_bn", cin)

    def forward(x):
        x = conv(x, *stem, 2, (3, 3, 3, 3))
        x = max_pool(pad(x, 1, 1, 1, 1), 3, 2)
        for stage in stages:
            for stride, pre, short, k1, bn1, k2, bn2, c3 in stage:
                preact = relu(batch_norm(x, pre, eps))
                if short is not None:
                    sc = conv(preact, *short, stride)
                elif stride > 1:
                    sc = max_pool(x, 1, stride)
                else:
                    sc = x
                y = relu(batch_norm(conv(preact, k1), bn1, eps))
                y = relu(batch_norm(conv(pad(y, 1, 1, 1, 1), k2, None, stride), bn2, eps))
                x = sc + conv(y, *c3)
        return relu(batch_norm(x, post, eps))

    return w.layers, forward


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--variant", choices=["v1", "v2"], default="v1")
    p.add_argument("--blocks", default="3,4,6,3")
    p.add_argument("--sizes", default="64,96")
    p.add_argument("--epsilon", type=float, default=1.001e-5)
    a = p.parse_args()
    blocks = [int(v) for v in a.blocks.split(",")]
    sizes = [int(v) for v in a.sizes.split(",")]
    build = build_v1 if a.variant == "v1" else build_v2
    layers, forward = build(blocks, seed=50, eps=a.epsilon)
    write_weights(f"{a.out}/resnet_weights.h5", layers, keras_version="2.11.0")
    write_io(f"{a.out}/resnet_io.h5", forward, sizes)
    print(f"wrote {len(layers)} layers and outputs at {sizes} to {a.out}")


if __name__ == "__main__":
    sys.exit(main())

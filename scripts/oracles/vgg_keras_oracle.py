#!/usr/bin/python3
"""An independent implementation of Keras's VGG16 / VGG19 (no top) in numpy, double precision, to check the
library's: seeded weights written in the layout of Keras's save_weights (block1_conv1 ... block5_conv4, kernel:0 and
bias:0), the network run on seeded images at two sizes, and the inputs and the outputs of block5_pool written to a
second HDF5 file.

    /usr/bin/python3 scripts/oracles/vgg_keras_oracle.py OUT_DIR [--depth 19] [--sizes 32,64]

Writes OUT_DIR/vgg_weights.h5 and OUT_DIR/vgg_io.h5 (datasets x32, y32, x64, y64). Needs numpy and h5py. The
architecture follows keras/src/applications/vgg19.py: five blocks of 3x3 "same" convolutions with bias and ReLU
(64, 128, 256, 512, 512 filters; 2, 2, 4, 4, 4 of them for VGG19, 2, 2, 3, 3, 3 for VGG16), each block ending in
a 2x2 max pooling with stride 2.
"""
import argparse
import sys

from keras_numpy import Weights, conv, max_pool, relu, write_io, write_weights


def build(depth, seed):
    counts = [2, 2, 4, 4, 4] if depth == 19 else [2, 2, 3, 3, 3]
    w = Weights(seed)
    w.none("input_1")
    blocks = []
    cin = 3
    for b, (filters, count) in enumerate(zip([64, 128, 256, 512, 512], counts), start=1):
        convs = []
        for i in range(1, count + 1):
            convs.append(w.conv(f"block{b}_conv{i}", 3, 3, cin, filters))
            cin = filters
        w.none(f"block{b}_pool")
        blocks.append(convs)

    def forward(x):
        for convs in blocks:
            for k, bias in convs:
                x = relu(conv(x, k, bias, 1, (1, 1, 1, 1)))
            x = max_pool(x, 2, 2)
        return x

    return w.layers, forward


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--depth", type=int, choices=[16, 19], default=19)
    p.add_argument("--sizes", default="32,64")
    a = p.parse_args()
    sizes = [int(v) for v in a.sizes.split(",")]
    layers, forward = build(a.depth, seed=19)
    write_weights(f"{a.out}/vgg_weights.h5", layers)
    write_io(f"{a.out}/vgg_io.h5", forward, sizes)
    print(f"wrote {len(layers)} layers and outputs at {sizes} to {a.out}")


if __name__ == "__main__":
    sys.exit(main())

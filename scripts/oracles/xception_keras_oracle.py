#!/usr/bin/python3
"""An independent implementation of Keras's Xception (no top) in numpy, double precision, to check the library's.

It builds the network of keras/applications/xception.py as a small graph of layer calls, draws seeded weights and
random batch-norm statistics for every layer (separable convolutions: depthwise_kernel (kh, kw, in, 1) and
pointwise_kernel (1, 1, in, filters), no biases; batch normalization epsilon 1e-3), runs it on seeded images at two
sizes and writes:

  OUT/xception_weights.h5     Keras 2's save_weights layout: root attribute layer_names, per layer weight_names,
                              datasets layer/layer/kernel:0, depthwise_kernel:0, pointwise_kernel:0, gamma:0,
                              beta:0, moving_mean:0, moving_variance:0; Keras 2's layer names.
  OUT/xception_k1_weights.h5  the same values as Keras 1.2 wrote them: no keras_version attribute, automatic layer
                              names numbered per type in creation order (convolution2d_1, separableconvolution2d_1,
                              batchnormalization_1, activation_1, maxpooling2d_1, merge_1, ...), weight names
                              <layer>_W:0, <layer>_depthwise_kernel:0, <layer>_pointwise_kernel:0, <layer>_gamma:0,
                              <layer>_beta:0, <layer>_running_mean:0, <layer>_running_std:0 (which holds the
                              variance), datasets directly in the layer's group, layers in Keras's model.layers
                              order (by depth from the output, ties by the depth-first walk: the order Keras's
                              topological loading pairs them in).
  OUT/xception_k1_swapped.h5  as the Keras 1 file, with the 2nd and 3rd convolution2d groups swapped in layer_names.
  OUT/xception_k1_badshape.h5 as the Keras 1 file, with separableconvolution2d_5's pointwise kernel one filter short.
  OUT/xception_io.h5          inputs x71, x96 (2 images each) and outputs y71, y96 of block14_sepconv2_act.

    /usr/bin/python3 scripts/oracles/xception_keras_oracle.py OUT_DIR

Needs numpy and h5py (Debian: python3-numpy python3-h5py). Nothing here comes from the library.
"""
import sys

import h5py
import numpy as np

EPS = 1e-3


# ---- maths, channels-last, double precision ----

def same_pads(size, k, s):
    """TensorFlow's "same": total padding max((out-1)*s + k - size, 0), the smaller half before."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_input(x, k, s, same, value=0.0):
    if not same:
        return x
    t, b = same_pads(x.shape[1], k, s)
    l, r = same_pads(x.shape[2], k, s)
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def taps(x, k, s):
    """Yields (i, j, the input window for kernel tap (i, j)) of a valid k x k window with stride s."""
    n, h, w, _ = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    for i in range(k):
        for j in range(k):
            yield i, j, x[:, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s, :]


def conv2d(x, kernel, s, same):
    k = kernel.shape[0]
    x = pad_input(x, k, s, same)
    out = None
    for i, j, patch in taps(x, k, s):
        t = np.tensordot(patch, kernel[i, j], axes=([3], [0]))
        out = t if out is None else out + t
    return out


def separable(x, dk, pk, same):
    """Depthwise (multiplier 1) then pointwise; stride 1 as in Xception."""
    k = dk.shape[0]
    x = pad_input(x, k, 1, same)
    mid = None
    for i, j, patch in taps(x, k, 1):
        t = patch * dk[i, j, :, 0]
        mid = t if mid is None else mid + t
    return np.tensordot(mid, pk[0, 0], axes=([3], [0]))


def max_pool_same(x, k, s):
    x = pad_input(x, k, s, True, -np.inf)
    out = None
    for _, _, patch in taps(x, k, s):
        out = patch if out is None else np.maximum(out, patch)
    return out


def batch_norm(x, g, b, mean, var):
    return (x - mean) / np.sqrt(var + EPS) * g + b


# ---- the graph ----

class Graph:
    """Layer calls in creation order: name -> (kind, inputs, config, weights)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.calls = []
        self.index = {}

    def f32(self, a):
        return a.astype(np.float32).astype(np.float64)

    def add(self, name, kind, inputs, config=None, weights=None):
        self.index[name] = len(self.calls)
        self.calls.append((name, kind, list(inputs), config or {}, weights or []))
        return name

    def channels(self, name):
        _, kind, inputs, config, weights = self.calls[self.index[name]]
        if kind == "input":
            return 3
        if kind == "conv":
            return weights[0][1].shape[3]
        if kind == "sep":
            return weights[1][1].shape[3]
        return self.channels(inputs[0])

    def conv(self, name, x, filters, k, s, same):
        cin = self.channels(x)
        kern = self.f32(self.rng.normal(0, np.sqrt(2.0 / (k * k * cin)), (k, k, cin, filters)))
        return self.add(name, "conv", [x], {"s": s, "same": same}, [("kernel", kern)])

    def sep(self, name, x, filters):
        cin = self.channels(x)
        dk = self.f32(self.rng.normal(0, np.sqrt(1.0 / 9), (3, 3, cin, 1)))
        pk = self.f32(self.rng.normal(0, np.sqrt(2.0 / cin), (1, 1, cin, filters)))
        return self.add(name, "sep", [x], {}, [("depthwise_kernel", dk), ("pointwise_kernel", pk)])

    def bn(self, name, x):
        c = self.channels(x)
        w = [("gamma", self.f32(self.rng.uniform(0.5, 1.5, c))), ("beta", self.f32(self.rng.normal(0, 0.1, c))),
             ("moving_mean", self.f32(self.rng.normal(0, 0.1, c))),
             ("moving_variance", self.f32(self.rng.uniform(0.5, 1.5, c)))]
        return self.add(name, "bn", [x], {}, w)

    def run(self, x):
        values = {}
        for name, kind, inputs, config, weights in self.calls:
            w = [a for _, a in weights]
            a = values[inputs[0]] if inputs else x
            if kind == "input":
                v = x
            elif kind == "conv":
                v = conv2d(a, w[0], config["s"], config["same"])
            elif kind == "sep":
                v = separable(a, w[0], w[1], True)
            elif kind == "bn":
                v = batch_norm(a, *w)
            elif kind == "relu":
                v = np.maximum(a, 0)
            elif kind == "pool":
                v = max_pool_same(a, 3, 2)
            elif kind == "add":
                v = values[inputs[0]] + values[inputs[1]]
            else:
                raise ValueError(kind)
            values[name] = v
        return values[self.calls[-1][0]]

    def keras_order(self):
        """Keras's model.layers: depth from the output (deepest first), ties by first visit of a depth-first walk
        from the output that takes each call's inputs in order (keras/src/ops/function.py map_graph)."""
        first_seen, post = {}, []
        done = set()

        def walk(name):
            if name in done:
                return
            first_seen.setdefault(name, len(first_seen))
            for parent in self.calls[self.index[name]][2]:
                walk(parent)
            done.add(name)
            post.append(name)

        sys.setrecursionlimit(10000)
        walk(self.calls[-1][0])
        depth = {}
        for name in reversed(post):
            d = depth.setdefault(name, 0)
            for parent in self.calls[self.index[name]][2]:
                depth[parent] = max(depth.get(parent, 0), d + 1)
        return sorted(post, key=lambda n: (-depth[n], first_seen[n]))


def xception(seed):
    g = Graph(seed)
    auto = {"conv2d": 0, "batch_normalization": 0, "add": 0}

    def auto_name(prefix):
        n = auto[prefix]
        auto[prefix] += 1
        return prefix if n == 0 else f"{prefix}_{n}"

    def shortcut(x, filters):
        r = g.conv(auto_name("conv2d"), x, filters, 1, 2, True)
        return g.bn(auto_name("batch_normalization"), r)

    def add(a, b):
        return g.add(auto_name("add"), "add", [a, b])

    x = g.add("input_1", "input", [])
    x = g.conv("block1_conv1", x, 32, 3, 2, False)
    x = g.add("block1_conv1_act", "relu", [g.bn("block1_conv1_bn", x)])
    x = g.conv("block1_conv2", x, 64, 3, 1, False)
    x = g.add("block1_conv2_act", "relu", [g.bn("block1_conv2_bn", x)])

    res = shortcut(x, 128)
    x = g.bn("block2_sepconv1_bn", g.sep("block2_sepconv1", x, 128))
    x = g.add("block2_sepconv2_act", "relu", [x])
    x = g.bn("block2_sepconv2_bn", g.sep("block2_sepconv2", x, 128))
    x = g.add("block2_pool", "pool", [x])
    x = add(x, res)

    def entry(x, b, f1, f2):
        res = shortcut(x, f2)
        x = g.add(f"block{b}_sepconv1_act", "relu", [x])
        x = g.bn(f"block{b}_sepconv1_bn", g.sep(f"block{b}_sepconv1", x, f1))
        x = g.add(f"block{b}_sepconv2_act", "relu", [x])
        x = g.bn(f"block{b}_sepconv2_bn", g.sep(f"block{b}_sepconv2", x, f2))
        x = g.add(f"block{b}_pool", "pool", [x])
        return add(x, res)

    x = entry(x, 3, 256, 256)
    x = entry(x, 4, 728, 728)
    for b in range(5, 13):
        res = x
        for u in (1, 2, 3):
            x = g.add(f"block{b}_sepconv{u}_act", "relu", [x])
            x = g.bn(f"block{b}_sepconv{u}_bn", g.sep(f"block{b}_sepconv{u}", x, 728))
        x = add(x, res)
    x = entry(x, 13, 728, 1024)
    x = g.bn("block14_sepconv1_bn", g.sep("block14_sepconv1", x, 1536))
    x = g.add("block14_sepconv1_act", "relu", [x])
    x = g.bn("block14_sepconv2_bn", g.sep("block14_sepconv2", x, 2048))
    g.add("block14_sepconv2_act", "relu", [x])
    return g


# ---- files ----

KERAS1_TYPE = {"input": "input", "conv": "convolution2d", "sep": "separableconvolution2d", "bn": "batchnormalization",
               "relu": "activation", "pool": "maxpooling2d", "add": "merge"}
KERAS1_WEIGHT = {"kernel": "W", "depthwise_kernel": "depthwise_kernel", "pointwise_kernel": "pointwise_kernel",
                 "gamma": "gamma", "beta": "beta", "moving_mean": "running_mean", "moving_variance": "running_std"}


def write_keras2(path, g, order):
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n in order])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.11.0"
        for name in order:
            weights = g.calls[g.index[name]][4]
            grp = f.create_group(name)
            grp.attrs["weight_names"] = np.array([f"{name}/{wn}:0".encode() for wn, _ in weights])
            if weights:
                inner = grp.create_group(name)
                for wn, a in weights:
                    inner.create_dataset(f"{wn}:0", data=a.astype(np.float32))


def keras1_names(g):
    """Keras 1's automatic names: the lower-case class name and a counter per class, in creation order."""
    counts, names = {}, {}
    for name, kind, _, _, _ in g.calls:
        t = KERAS1_TYPE[kind]
        counts[t] = counts.get(t, 0) + 1
        names[name] = f"{t}_{counts[t]}"
    return names


def write_keras1(path, g, order, names, mutate=None):
    entries = []
    for name in order:
        k1 = names[name]
        weights = [(f"{k1}_{KERAS1_WEIGHT[wn]}:0", a) for wn, a in g.calls[g.index[name]][4]]
        entries.append([k1, weights])
    if mutate:
        mutate(entries)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([k1.encode() for k1, _ in entries])
        for k1, weights in entries:
            grp = f.create_group(k1)
            grp.attrs["weight_names"] = np.array([wn.encode() for wn, _ in weights])
            for wn, a in weights:
                grp.create_dataset(wn, data=a.astype(np.float32))


def swap_second_and_third_conv(entries):
    at = [i for i, (n, _) in enumerate(entries) if n in ("convolution2d_2", "convolution2d_3")]
    entries[at[0]], entries[at[1]] = entries[at[1]], entries[at[0]]


def shorten_a_pointwise_kernel(entries):
    for e in entries:
        if e[0] == "separableconvolution2d_5":
            e[1] = [(wn, a[..., :-1] if "pointwise" in wn else a) for wn, a in e[1]]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out = sys.argv[1]
    g = xception(seed=71)
    order = g.keras_order()
    names = keras1_names(g)
    write_keras2(f"{out}/xception_weights.h5", g, order)
    write_keras1(f"{out}/xception_k1_weights.h5", g, order, names)
    write_keras1(f"{out}/xception_k1_swapped.h5", g, order, names, swap_second_and_third_conv)
    write_keras1(f"{out}/xception_k1_badshape.h5", g, order, names, shorten_a_pointwise_kernel)
    rng = np.random.default_rng(299)
    with h5py.File(f"{out}/xception_io.h5", "w") as f:
        for size in (71, 96):
            x32 = rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32)
            y = g.run(x32.astype(np.float64))
            f.create_dataset(f"x{size}", data=x32)
            f.create_dataset(f"y{size}", data=y.astype(np.float32))
    with open(f"{out}/xception_order.txt", "w") as f:
        f.write("\n".join(f"{n} {names[n]}" for n in order) + "\n")
    print(f"wrote {len(order)} layers ({sum(1 for n in order if g.calls[g.index[n]][4])} with weights) and outputs "
          f"at 71 and 96 to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

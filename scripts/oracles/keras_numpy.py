"""What the numpy oracles share: the layer arithmetic of Keras's image layers in double precision (channels-last),
seeded weights remembered in Keras's layer order, and the writing of Keras 2's save_weights HDF5 layout.

Nothing here comes from the library under test; the arithmetic follows Keras's definitions: a "valid" convolution
after explicit zero padding (Keras's "same" with stride 1 and an odd kernel pads k // 2 on every side), max and
average pooling over whole windows, batch normalization at inference (x - moving_mean) / sqrt(moving_variance +
epsilon) * gamma + beta.
"""
import h5py
import numpy as np


def pad(x, top, bottom, left, right):
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def conv(x, k, b=None, stride=1, padding=(0, 0, 0, 0)):
    """x (n, h, w, c), k (kh, kw, c, o), b (o,) or None; padding (top, bottom, left, right) before a valid convolution."""
    x = pad(x, *padding)
    kh, kw, _, o = k.shape
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]
            out += np.tensordot(patch, k[i, j], axes=([3], [0]))
    return out if b is None else out + b


def _windows(x, size, stride):
    n, h, w, c = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    for i in range(size):
        for j in range(size):
            yield x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]


def max_pool(x, size, stride):
    """Keras's MaxPooling2D with "valid" padding."""
    return np.maximum.reduce(list(_windows(x, size, stride)))


def avg_pool(x, size, stride):
    """Keras's AveragePooling2D with "valid" padding (every window lies inside the image)."""
    return sum(_windows(x, size, stride)) / (size * size)


def batch_norm(x, p, eps):
    gamma, beta, mean, var = p
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def relu(x):
    return np.maximum(x, 0)


class Weights:
    """Seeded weights, remembered in the order the layers are made (Keras's order in layer_names)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.layers = []  # (layer name, [(weight name, array)]); layers without weights too

    @staticmethod
    def f32(a):
        """The values the float32 file holds, kept in double precision for the forward pass."""
        return a.astype(np.float32).astype(np.float64)

    def none(self, name):
        """A layer without weights: listed in layer_names with empty weight_names, as Keras writes it."""
        self.layers.append((name, []))

    def conv(self, name, kh, kw, cin, cout, bias=True):
        k = self.f32(self.rng.normal(0, np.sqrt(2.0 / (kh * kw * cin)), (kh, kw, cin, cout)))
        ws = [("kernel:0", k)]
        b = None
        if bias:
            b = self.f32(self.rng.normal(0, 0.05, cout))
            ws.append(("bias:0", b))
        self.layers.append((name, ws))
        return k, b

    def bn(self, name, c):
        g = self.f32(self.rng.uniform(0.5, 1.5, c))
        beta = self.f32(self.rng.normal(0, 0.1, c))
        mean = self.f32(self.rng.normal(0, 0.1, c))
        var = self.f32(self.rng.uniform(0.5, 1.5, c))
        self.layers.append((name, [("gamma:0", g), ("beta:0", beta), ("moving_mean:0", mean), ("moving_variance:0", var)]))
        return g, beta, mean, var


def write_weights(path, layers, keras_version="2.2.4"):
    """Keras 2's save_weights layout: root attribute layer_names; per layer a group (nested when the name holds a
    '/', as h5py makes it) with attribute weight_names ("layer/kernel:0", ...) and the datasets at
    layer/layer/kernel:0; a layer without weights has an empty float64 weight_names, as Keras writes it."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = keras_version.encode()
        for name, ws in layers:
            g = f.create_group(name)
            g.attrs["weight_names"] = np.array([f"{name}/{wn}".encode() for wn, _ in ws]) if ws else np.array([])
            if ws:
                inner = g.create_group(name)
                for wn, arr in ws:
                    inner.create_dataset(wn, data=arr.astype(np.float32))


def write_io(path, forward, sizes, seed=7, batch=2):
    """Seeded images in [-1, 1] at each size and the network's outputs, computed in double precision on the float32
    values the library reads: datasets x<size>, y<size>."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for size in sizes:
            x32 = rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)
            y = forward(x32.astype(np.float64))
            f.create_dataset(f"x{size}", data=x32)
            f.create_dataset(f"y{size}", data=y.astype(np.float32))

#!/usr/bin/python3
"""The peer side of bench/run.sh: PyTorch (Debian's python3-torch) on the same workloads as the Java worker
(lib/src/test/java/io/transferlab/bench/Benchmark.java), with the same line protocol on stdin/stdout:

  round VARIANT  ->  @@ ok SECONDS ITEMS
  mem            ->  @@ ok VmHWM_KB
  quit           ->  @@ ok bye

Usage: peer_torch.py WORKLOAD [ARGS]; the first answer is "@@ ok ready VARIANT,VARIANT,..." (or "@@ skip REASON").
Workloads: vgg, inception, mobilenet, head, cnn, pipeline TRAIN_DIR IMAGES_PER_ROUND.
No weights are downloaded: every network has random weights (speed does not depend on them).

bfloat16: vgg, extract-vgg, extract-mobilenet, finetune-vgg and finetune-mobilenet also have variants named
autocast_bf16... : the float32 modes run under torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's mixed
precision, the counterpart of the project's mixed_bfloat16 policy), on models of their own. Where torch has no CPU
autocast or the CPU computes bfloat16 only by emulation they are left out, with a line "@@ note ..." before the
ready line saying why; TL_BENCH_BF16=0 leaves them out too.
"""
import os
import sys
import time

BATCH = 20


def answer(s):
    sys.stdout.write("@@ ok " + s + "\n")
    sys.stdout.flush()


def skip(reason):
    sys.stdout.write("@@ skip " + reason + "\n")
    sys.stdout.flush()
    # stay alive for the driver's quit
    for line in sys.stdin:
        if line.strip() == "quit":
            answer("bye")
            return
        answer("skip")


def note(s):
    sys.stdout.write("@@ note " + s + "\n")
    sys.stdout.flush()


def bf16_unavailable(torch):
    """None where bf16 autocast on this CPU is native (AVX512-BF16 or AMX-BF16, oneDNN in torch); else why not."""
    if os.environ.get("TL_BENCH_BF16", "1").lower() in ("0", "false"):
        return "off (TL_BENCH_BF16=0)"
    if not hasattr(torch, "autocast"):
        return "torch %s has no torch.autocast" % torch.__version__
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            pass
    except Exception as e:  # noqa: BLE001 - a torch whose autocast knows no CPU
        return "torch %s has no CPU autocast to bfloat16: %s" % (torch.__version__, e)
    if not torch.backends.mkldnn.is_available():
        return "torch %s is built without oneDNN (MKLDNN), which runs its bfloat16 convolutions" % torch.__version__
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    if not flags & {"avx512_bf16", "amx_bf16"}:
        return "this CPU has neither AVX512-BF16 nor AMX-BF16 (bfloat16 would be emulated, slower than float32)"
    return None


def vm_hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def setup_torch():
    import torch
    torch.set_num_threads(int(os.environ.get("TL_THREADS", os.cpu_count() or 1)))
    torch.manual_seed(0)
    return torch


def one_thread(torch, fn):
    """fn run with a single intra-op thread. With all cores, PyTorch's OpenMP threads and OpenBLAS's own thread
    pool compete for them on a classifier head's small products (2.6x slower here than one thread), so the
    training workloads time both and the summary compares against the peer's best."""
    def go():
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(n)
    return go


def forward_variants(torch, model, size, bf16=False):
    """eager (NCHW), channels_last, and jit.trace+freeze (channels_last) where tracing works; with bf16, also
    autocast_bf16 (channels_last under CPU autocast to bfloat16) and autocast_bf16_jit (traced under autocast, so
    the trace holds the casts, then frozen), on a copy of the model of their own."""
    model = model.eval()
    x = torch.rand(BATCH, 3, size, size) * 255
    variants = {}

    def run(m, inp):
        def go():
            with torch.no_grad():
                m(inp)
            return BATCH
        return go

    variants["eager"] = run(model, x)
    import copy
    cl = copy.deepcopy(model).to(memory_format=torch.channels_last)
    xcl = x.contiguous(memory_format=torch.channels_last)
    variants["channels_last"] = run(cl, xcl)
    try:
        with torch.no_grad():
            traced = torch.jit.freeze(torch.jit.trace(cl, xcl))
            traced(xcl)
        variants["jit_freeze_cl"] = run(traced, xcl)
    except Exception as e:  # noqa: BLE001 - old torch without freeze, or a module trace cannot handle
        sys.stderr.write("jit.trace+freeze unavailable: %s\n" % e)
    if bf16:
        why = bf16_unavailable(torch)
        if why is not None:
            note("autocast_bf16 variants skipped: " + why)
            return variants
        bcl = copy.deepcopy(cl)

        def autocast_run():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                out = bcl(xcl)
            if out.dtype != torch.bfloat16:
                raise SystemExit("autocast_bf16: the output is %s, not bfloat16" % out.dtype)
            return BATCH
        variants["autocast_bf16"] = autocast_run
        try:
            # the JIT's own autocast pass off while tracing (as PyTorch's CPU autocast notes advise for tracing);
            # the trace records the casts autocast inserted, so the frozen graph runs bfloat16 by itself
            old = torch._C._jit_set_autocast_mode(False)
            try:
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                    btraced = torch.jit.freeze(torch.jit.trace(copy.deepcopy(cl), xcl, check_trace=False))
                    btraced(xcl)
            finally:
                torch._C._jit_set_autocast_mode(old)
            with torch.no_grad():
                dt = btraced(xcl).dtype
            if dt != torch.bfloat16:
                raise RuntimeError("the traced graph outputs %s, not bfloat16" % dt)
            variants["autocast_bf16_jit"] = run(btraced, xcl)
        except Exception as e:  # noqa: BLE001 - a torch whose tracer cannot record autocast
            sys.stderr.write("jit.trace+freeze under autocast unavailable: %s\n" % e)
    return variants


def vgg(torch):
    import torch.nn as nn
    layers, c = [], 3
    for filters, n in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(n):
            layers += [nn.Conv2d(c, filters, 3, padding=1), nn.ReLU(inplace=True)]
            c = filters
        layers.append(nn.MaxPool2d(2, 2))
    return forward_variants(torch, nn.Sequential(*layers), 150, bf16=True)


def inception(torch):
    try:
        import torchvision
    except ImportError:
        return None
    import torch.nn as nn
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)
    # Keras's mixed0..mixed7 are torchvision's Mixed_5b..Mixed_6e
    parts = [net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, net.maxpool1, net.Conv2d_3b_1x1,
             net.Conv2d_4a_3x3, net.maxpool2, net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b,
             net.Mixed_6c, net.Mixed_6d, net.Mixed_6e]
    model = nn.Sequential(*parts)
    with torch.no_grad():
        shape = tuple(model.eval()(torch.zeros(1, 3, 150, 150)).shape)
    if shape != (1, 768, 7, 7):
        raise SystemExit("inception to mixed7 should give 768x7x7 at 150x150, got %s" % (shape,))
    return forward_variants(torch, model, 150)


def mobilenet(torch):
    """MobileNet v1 (alpha 1.0) written out by hand (torchvision has no v1): the Keras layer list, no top."""
    import torch.nn as nn

    def conv_bn(cin, cout, stride):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU6(inplace=True)]

    def dw_pw(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin, eps=1e-3),
                nn.ReLU6(inplace=True),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU6(inplace=True)]

    layers = conv_bn(3, 32, 2)
    spec = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
           [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    for cin, cout, s in spec:
        layers += dw_pw(cin, cout, s)
    return forward_variants(torch, nn.Sequential(*layers), 224)


def head(torch):
    import torch.nn as nn
    x = torch.rand(2000, 8192)
    y = (torch.rand(2000, 1) > 0.5).float()
    model = nn.Sequential(nn.Linear(8192, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 1), nn.Sigmoid())
    opt = torch.optim.RMSprop(model.parameters(), lr=2e-5, alpha=0.9, eps=1e-7)
    loss_fn = nn.BCELoss()

    def epoch():
        model.train()
        perm = torch.randperm(2000)
        for i in range(0, 2000, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        return 2000

    return {"loop": epoch, "loop_1thread": one_thread(torch, epoch)}


def cnn(torch):
    """Notebook 07's small CNN trained from scratch: 150x150x3, three 3x3 conv + 2x2 max-pool blocks (16, 32, 64
    filters), Dense(128, relu), Dense(1, sigmoid); RMSprop(1e-3), batch 32, one pass over 320 images per round."""
    import torch.nn as nn
    n, batch = 320, 32
    torch.manual_seed(0)
    x = torch.rand(n, 3, 150, 150)
    y = (torch.rand(n, 1) > 0.5).float()

    def make(channels_last):
        model = nn.Sequential(
            nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 17 * 17, 128), nn.ReLU(), nn.Linear(128, 1), nn.Sigmoid())
        xs = x
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            xs = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        loss_fn = nn.BCELoss()

        def epoch():
            model.train()
            perm = torch.randperm(n)
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                opt.zero_grad()
                loss = loss_fn(model(xs[idx]), y[idx])
                loss.backward()
                opt.step()
            return n
        return epoch

    channels_last = make(True)
    return {"eager": make(False), "channels_last": channels_last,
            "channels_last_1thread": one_thread(torch, channels_last)}


def _decode(path):
    import numpy as np
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((150, 150), Image.NEAREST), dtype=np.float32)


def pipeline(train_dir, per_round):
    try:
        import numpy as np  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError:
        return None
    files = []
    for cls in sorted(os.listdir(train_dir)):
        d = os.path.join(train_dir, cls)
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d))][:max(1, per_round // 2)]
    import multiprocessing
    import numpy as np
    workers = os.cpu_count() or 1
    pool = multiprocessing.Pool(workers)

    def single():
        for i in range(0, len(files), BATCH):
            np.stack([_decode(f) for f in files[i:i + BATCH]])
        return len(files)

    def parallel():
        for i in range(0, len(files), BATCH):
            np.stack(pool.map(_decode, files[i:i + BATCH]))
        return len(files)

    return {"pil_1proc": single, "pil_%dproc" % workers: parallel}


# ---- the notebooks' paths (bench/run.sh's default workloads) ----

def threads_variants(torch, fn):
    """fn with one intra-op thread and with two (the peer's best of both is the reference)."""
    def with_threads(n):
        def go():
            old = torch.get_num_threads()
            torch.set_num_threads(n)
            try:
                return fn()
            finally:
                torch.set_num_threads(old)
        return go
    return {"1thread": with_threads(1), "2threads": with_threads(min(2, os.cpu_count() or 1))}


def head_fit(torch, feature_shape, units, dropout, lr, epochs):
    """Keras's fit(x, y, epochs, 20, validation_data=...) written as a PyTorch user writes it: per epoch, shuffled
    batches of 20 (forward, BCE, backward, RMSprop step, running loss and accuracy), then a no_grad pass over the
    1000 validation examples in batches of 20. 2000 training examples; notebook 03's (4,4,512) or 02's (7,7,768)
    features, flattened. Each round builds a fresh optimizer (a notebook's compile cell) and counts epochs."""
    import torch.nn as nn
    flat = 1
    for d in feature_shape:
        flat *= d
    x = torch.rand(2000, flat)
    y = (torch.rand(2000, 1) > 0.5).float()
    xv = torch.rand(1000, flat)
    yv = (torch.rand(1000, 1) > 0.5).float()
    model = nn.Sequential(nn.Linear(flat, units), nn.ReLU(), nn.Dropout(dropout), nn.Linear(units, 1), nn.Sigmoid())
    sys.stderr.write("peer head: %d parameters\n" % sum(p.numel() for p in model.parameters()))
    loss_fn = nn.BCELoss()

    def fit():
        # Keras's RMSprop: rho 0.9, epsilon 1e-7
        opt = torch.optim.RMSprop(model.parameters(), lr=lr, alpha=0.9, eps=1e-7)
        for _ in range(epochs):
            model.train()
            perm = torch.randperm(2000)
            total, correct = 0.0, 0
            for i in range(0, 2000, BATCH):
                idx = perm[i:i + BATCH]
                opt.zero_grad(set_to_none=True)
                out = model(x[idx])
                loss = loss_fn(out, y[idx])
                loss.backward()
                opt.step()
                total += loss.item()
                correct += int(((out > 0.5).float() == y[idx]).sum())
            model.eval()
            vloss, vcorrect = 0.0, 0
            with torch.no_grad():
                for i in range(0, 1000, BATCH):
                    out = model(xv[i:i + BATCH])
                    vloss += loss_fn(out, yv[i:i + BATCH]).item()
                    vcorrect += int(((out > 0.5).float() == yv[i:i + BATCH]).sum())
        return epochs

    return threads_variants(torch, fit)


def mobilenet_v1_layers(nn, alpha):
    """MobileNet v1's layers (Keras's list, no top) for a width multiplier alpha: a list of blocks, the stem first
    and then 13 depthwise-separable blocks (conv_dw_1 .. conv_dw_13), each a list of modules."""
    def c(n):
        return int(n * alpha)
    blocks = [[nn.Conv2d(3, c(32), 3, 2, 1, bias=False), nn.BatchNorm2d(c(32), eps=1e-3), nn.ReLU6(inplace=True)]]
    spec = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
           [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    for cin, cout, s in spec:
        blocks.append([nn.Conv2d(c(cin), c(cin), 3, s, 1, groups=c(cin), bias=False),
                       nn.BatchNorm2d(c(cin), eps=1e-3), nn.ReLU6(inplace=True),
                       nn.Conv2d(c(cin), c(cout), 1, bias=False), nn.BatchNorm2d(c(cout), eps=1e-3),
                       nn.ReLU6(inplace=True)])
    return blocks


def vgg16_blocks(nn):
    blocks, c = [], 3
    for filters, n in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        b = []
        for _ in range(n):
            b += [nn.Conv2d(c, filters, 3, padding=1), nn.ReLU(inplace=True)]
            c = filters
        b.append(nn.MaxPool2d(2, 2))
        blocks.append(b)
    return blocks


class JpegFolder:
    """torchvision-free ImageFolder: the first per_class files of each class folder, PIL decode, resize to the
    target (bilinear, as Keras's load_img with interpolation="bilinear"), then the notebook's preprocessing."""
    def __init__(self, train_dir, per_class, size, mode):
        self.files = []
        for cls in sorted(os.listdir(train_dir)):
            d = os.path.join(train_dir, cls)
            if os.path.isdir(d):
                self.files += [os.path.join(d, f) for f in sorted(os.listdir(d))][:per_class]
        self.size, self.mode = size, mode

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        import numpy as np
        import torch
        from PIL import Image
        with Image.open(self.files[i]) as im:
            im.draft("RGB", (self.size, self.size))  # DCT-domain downscaling, as a PIL user would
            a = np.asarray(im.convert("RGB").resize((self.size, self.size), Image.BILINEAR), dtype=np.float32)
        a = a / 127.5 - 1.0 if self.mode == "tf" else a / 255.0
        return torch.from_numpy(a).permute(2, 0, 1)


def extraction(torch, train_dir, per_round, which):
    """Features of JPEG files the PyTorch way: a Dataset with PIL, a DataLoader (0, 1 or 2 worker processes,
    persistent), the network in channels_last under no_grad. MobileNet 0.25 at 224 + global average pooling, batch
    32 (notebook 07) or VGG16's conv base at 150, batch 20 (notebook 03); random weights."""
    import torch.nn as nn
    if which == "mobilenet":
        mods = [m for b in mobilenet_v1_layers(nn, 0.25) for m in b] + [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        size, batch, mode = 224, 32, "tf"
    else:
        mods = [m for b in vgg16_blocks(nn) for m in b]
        size, batch, mode = 150, 20, "rescale"
    model = nn.Sequential(*mods).eval().to(memory_format=torch.channels_last)
    data = JpegFolder(train_dir, max(1, per_round // 2), size, mode)
    why = bf16_unavailable(torch)
    if why is not None:
        note("autocast_bf16 variants skipped: " + why)
    import copy
    bmodel = copy.deepcopy(model) if why is None else None
    variants, bf16 = {}, {}
    for workers in (0, 1, 2):
        loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=False, num_workers=workers,
                                             persistent_workers=workers > 0)

        def go(loader=loader, m=model, autocast=False):
            n = 0
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                for xb in loader:
                    out = m(xb.contiguous(memory_format=torch.channels_last))
                    n += xb.shape[0]
            if autocast and out.dtype != torch.bfloat16:
                raise SystemExit("autocast_bf16: the features are %s, not bfloat16" % out.dtype)
            return n
        variants["dataloader_%dw" % workers] = go
        if bmodel is not None:
            # the same loader (its worker processes), the model's copy under autocast
            bf16["autocast_bf16_dataloader_%dw" % workers] = \
                lambda go=go, bmodel=bmodel: go(m=bmodel, autocast=True)
    variants.update(bf16)
    return variants


def fine_tune(torch, n, which):
    """Fine-tuning the last block the PyTorch way: the frozen prefix in eval mode under no_grad, the open block and
    the head trained (batch norm of the open block in training mode), channels_last, 1 or 2 threads, one epoch of
    n random images per round. VGG16 block5 + notebook 03's head at 150, batch 20, RMSprop(1e-5); MobileNet 1.0's
    conv_dw_13 block + GlobalAveragePooling2D, Dropout(0.2), Dense(1) at 224, batch 32, Adam(1e-5)."""
    import torch.nn as nn
    why = bf16_unavailable(torch)
    if why is not None:
        note("autocast_bf16 variants skipped: " + why)
    variants = threads_variants(torch, fine_tune_epoch(torch, n, which, False))
    if why is None:
        # a model and optimizer of its own: the bf16 rounds never train the float32 rounds' weights
        bf16 = threads_variants(torch, fine_tune_epoch(torch, n, which, True))
        variants.update({"autocast_bf16_" + k: v for k, v in bf16.items()})
    return variants


def fine_tune_epoch(torch, n, which, autocast):
    """One fine_tune setup (model, optimizer, data) and its epoch function; with autocast, the forward passes and
    the loss run under torch.autocast("cpu", dtype=torch.bfloat16) and backward and the optimizer step outside it,
    as PyTorch's automatic mixed precision documents (parameters, gradients and optimizer state stay float32)."""
    import torch.nn as nn
    if which == "vgg":
        blocks = vgg16_blocks(nn)
        prefix = nn.Sequential(*[m for b in blocks[:4] for m in b])
        opened = nn.Sequential(*blocks[4], nn.Flatten(), nn.Linear(512 * 4 * 4, 256), nn.ReLU(), nn.Dropout(0.5),
                               nn.Linear(256, 1), nn.Sigmoid())
        size, batch = 150, 20
    else:
        blocks = mobilenet_v1_layers(nn, 1.0)
        prefix = nn.Sequential(*[m for b in blocks[:-1] for m in b])
        opened = nn.Sequential(*blocks[-1], nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                               nn.Linear(1024, 1), nn.Sigmoid())
        size, batch = 224, 32
    if autocast:
        # ReLU6 in the trained block as clamp(0, 6), the same function: nn.ReLU6's backward (hardtanh's) has no
        # bfloat16 kernel on the CPU in torch 1.13 ("hardshrink_backward_cpu" not implemented for 'BFloat16')
        class ClampReLU6(nn.Module):
            def forward(self, t):
                return t.clamp(0.0, 6.0)
        opened = nn.Sequential(*[ClampReLU6() if isinstance(m, nn.ReLU6) else m for m in opened])
    for p in prefix.parameters():
        p.requires_grad_(False)
    prefix = prefix.eval().to(memory_format=torch.channels_last)
    opened = opened.to(memory_format=torch.channels_last)
    if which == "vgg":
        opt = torch.optim.RMSprop(opened.parameters(), lr=1e-5, alpha=0.9, eps=1e-7)
    else:
        opt = torch.optim.Adam(opened.parameters(), lr=1e-5, eps=1e-7)
    torch.manual_seed(7)
    x = torch.rand(n, 3, size, size).contiguous(memory_format=torch.channels_last)
    y = (torch.rand(n, 1) > 0.5).float()
    loss_fn = nn.BCELoss()

    def epoch():
        opened.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                with torch.no_grad():
                    f = prefix(x[idx].contiguous(memory_format=torch.channels_last))
                opt.zero_grad(set_to_none=True)
                out = opened(f)
                loss = loss_fn(out, y[idx])
            if autocast and (f.dtype != torch.bfloat16 or out.dtype != torch.bfloat16):
                raise SystemExit("autocast_bf16: the prefix gave %s and the head %s, not bfloat16" % (f.dtype, out.dtype))
            loss.backward()
            opt.step()
        return n

    return epoch


def isa_probe(torch):
    """Run under ONEDNN_VERBOSE=1 / DNNL_VERBOSE=1 by bench/run.sh: a convolution, so that PyTorch's oneDNN
    (MKLDNN) prints the ISA it dispatches to; then one line with torch's own build summary and BLAS."""
    import torch.nn as nn
    with torch.no_grad():
        nn.Conv2d(3, 8, 3).eval().to(memory_format=torch.channels_last)(
            torch.rand(2, 3, 16, 16).contiguous(memory_format=torch.channels_last))
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    cfg = torch.__config__.show()
    keep = []
    for line in cfg.splitlines():
        line = line.strip()
        if line.startswith(("- CPU capability", "- Intel(R) MKL-DNN", "- OpenMP", "- LAPACK")) \
                or "BLAS_INFO" in line:
            keep.append(line.lstrip("- "))
    blas = [l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.split()[-1]]
    keep = [k.split(",")[0] if k.startswith("Build settings") else k for k in keep]
    import re
    bi = re.findall(r"BLAS_INFO=\w+", cfg)
    sys.stdout.write("@@ ok PyTorch %s, mkldnn %s, %d threads; %s; %s; BLAS mapped %s\n" % (
        torch.__version__, torch.backends.mkldnn.is_available(), torch.get_num_threads(),
        "; ".join(k for k in keep if "BLAS_INFO" not in k), ", ".join(bi),
        os.path.basename(os.path.realpath(blas[0])) if blas else "none"))
    sys.stdout.flush()


def main():
    workload = sys.argv[1]
    if workload == "pipeline":
        variants = pipeline(sys.argv[2], int(sys.argv[3]))
        if variants is None:
            return skip("PIL/numpy not installed")
    else:
        try:
            torch = setup_torch()
        except ImportError:
            return skip("torch not installed (apt-get install -y python3-torch)")
        a = sys.argv[2:]
        variants = {
            "vgg": lambda t: vgg(t), "inception": lambda t: inception(t), "mobilenet": lambda t: mobilenet(t),
            "head": lambda t: head(t), "cnn": lambda t: cnn(t),
            "head03": lambda t: head_fit(t, (4, 4, 512), 256, 0.5, 2e-5, int(a[0])),
            "head02": lambda t: head_fit(t, (7, 7, 768), 1024, 0.2, 1e-4, int(a[0])),
            "extract-mobilenet": lambda t: extraction(t, a[0], int(a[1]), "mobilenet"),
            "extract-vgg": lambda t: extraction(t, a[0], int(a[1]), "vgg"),
            "finetune-vgg": lambda t: fine_tune(t, int(a[0]), "vgg"),
            "finetune-mobilenet": lambda t: fine_tune(t, int(a[0]), "mobilenet"),
            "isa": lambda t: isa_probe(t),
        }[workload](torch)
        if workload == "isa":
            return
        if variants is None:
            return skip("torchvision not installed (apt-get install -y python3-torchvision)")
        sys.stderr.write("peer %s: torch %s, %d threads\n" % (workload, torch.__version__, torch.get_num_threads()))
    answer("ready " + ",".join(variants))
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "round":
            t0 = time.perf_counter()
            n = variants[cmd[1]]()
            answer("%.6f %d" % (time.perf_counter() - t0, n))
        elif cmd[0] == "mem":
            answer(str(vm_hwm_kb()))
        elif cmd[0] == "quit":
            answer("bye")
            return
        else:
            answer("error unknown command " + line.strip())


if __name__ == "__main__":
    main()

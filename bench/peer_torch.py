#!/usr/bin/python3
"""The peer side of bench/run.sh: PyTorch (Debian's python3-torch) on the same workloads as the Java worker
(lib/src/test/java/io/transferlab/bench/Benchmark.java), with the same line protocol on stdin/stdout:

  round VARIANT  ->  @@ ok SECONDS ITEMS
  mem            ->  @@ ok VmHWM_KB
  quit           ->  @@ ok bye

Usage: peer_torch.py WORKLOAD [ARGS]; the first answer is "@@ ok ready VARIANT,VARIANT,..." (or "@@ skip REASON").
Workloads: vgg, inception, mobilenet, head, cnn, pipeline TRAIN_DIR IMAGES_PER_ROUND.
No weights are downloaded: every network has random weights (speed does not depend on them).
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


def forward_variants(torch, model, size):
    """eager (NCHW), channels_last, and jit.trace+freeze (channels_last) where tracing works."""
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
    return variants


def vgg(torch):
    import torch.nn as nn
    layers, c = [], 3
    for filters, n in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(n):
            layers += [nn.Conv2d(c, filters, 3, padding=1), nn.ReLU(inplace=True)]
            c = filters
        layers.append(nn.MaxPool2d(2, 2))
    return forward_variants(torch, nn.Sequential(*layers), 150)


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
        variants = {"vgg": vgg, "inception": inception, "mobilenet": mobilenet, "head": head, "cnn": cnn}[workload](torch)
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

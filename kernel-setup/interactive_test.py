#!/usr/bin/python3
"""The installed "java" kernel used interactively, through jupyter_client (the messages JupyterLab sends):
interrupts, errors people can read, help on a method. Each check prints one line; the summary line is
"N passed, M failed"; exit 1 if any failed.

    /usr/bin/python3 kernel-setup/interactive_test.py [--prefix DIR]

Checks: a busy Java loop stops within the limit after an interrupt and the kernel keeps its variables; two
interrupts in a row and an interrupt when nothing runs leave the kernel working; model.fit stops at a batch
boundary, returns its history and leaves a model that predicts; Features.extract stops without a cache entry;
a compile error carries JShell's diagnostic in its value; a library error shows its message first and no JShell
internals; inspect (Shift-Tab) answers with a signature.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

REPO = Path(__file__).resolve().parent.parent
LIMIT = 3.0  # seconds from the interrupt to an idle kernel (the issue asks for about 2 s)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prefix", default=str(REPO / ".jupyter-env"))
    p.add_argument("--kernel", default="java")
    return p.parse_args()


class Kernel:
    def __init__(self, prefix, name, cache):
        os.environ["JUPYTER_PATH"] = str(Path(prefix) / "share" / "jupyter")
        from jupyter_client import KernelManager
        self.km = KernelManager(kernel_name=name)
        env = dict(os.environ, TL_CACHE=cache)
        self.log = open(Path(prefix).parent / "lib" / "target" / "kernel-interactive.log", "w") \
            if (Path(prefix).parent / "lib" / "target").is_dir() else open(os.devnull, "w")
        self.km.start_kernel(env=env, stdout=self.log, stderr=self.log)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run(self, code, timeout=120, interrupt_after=None, interrupts=1):
        """Executes code; returns (reply content, stdout text, error content or None, seconds from interrupt to idle)."""
        msg_id = self.kc.execute(code)
        out, err, t_int, t_idle = [], None, None, None
        self.displays = []
        start = time.time()
        while True:
            if interrupt_after is not None and t_int is None and time.time() - start >= interrupt_after:
                for _ in range(interrupts):
                    self.km.interrupt_kernel()
                t_int = time.time()
            try:
                msg = self.kc.get_iopub_msg(timeout=0.1)
            except Empty:
                if time.time() - start > timeout:
                    raise TimeoutError("cell did not finish: " + code[:60])
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t = msg["msg_type"]
            if t == "stream":
                out.append(msg["content"]["text"])
            elif t == "error":
                err = msg["content"]
            elif t in ("display_data", "update_display_data", "execute_result"):
                self.displays.append((t, msg["content"].get("data", {})))
            elif t == "status" and msg["content"]["execution_state"] == "idle":
                t_idle = time.time()
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return reply["content"], "".join(out), err, (t_idle - t_int) if t_int else None

    def stop(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def main():
    args = parse_args()
    cache = tempfile.mkdtemp(prefix="tl-interactive-")
    k = Kernel(args.prefix, args.kernel, cache)
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True)

    try:
        k.run("int x = 41 + 1;")
        reply, out, err, dt = k.run("while (true) { x = x + 0; }", interrupt_after=1.0)
        check("busy loop stops after an interrupt", reply["status"] == "error" and dt is not None and dt < LIMIT,
              f"{dt:.2f}s, {err and err['ename']}" if dt else "no interrupt")
        check("the interrupted cell says so in one line", err is not None and err["ename"] == "KeyboardInterrupt"
              and len(err["traceback"]) <= 2, str(err and err["traceback"])[:120])
        _, out, _, _ = k.run("System.out.println(x);")
        check("variables kept after the interrupt", out.strip() == "42", out.strip())

        reply, _, err, dt = k.run("Thread.sleep(60_000);", interrupt_after=1.0, interrupts=2)
        check("two interrupts in a row", dt is not None and dt < LIMIT, f"{dt:.2f}s" if dt else "")
        k.km.interrupt_kernel()  # nothing runs
        time.sleep(0.5)
        _, out, _, _ = k.run("System.out.println(x + 1);")
        check("an interrupt when idle does nothing", out.strip() == "43", out.strip())

        k.run("""
import io.transferlab.models.*; import io.transferlab.optimizers.*; import io.transferlab.inference.*;
import io.transferlab.data.*; import io.transferlab.applications.*;
import static io.transferlab.layers.Layers.*;
import org.nd4j.linalg.factory.Nd4j; import org.nd4j.linalg.api.buffer.DataType;
var xs = Nd4j.rand(DataType.FLOAT, 2000, 1024);
var ys = Nd4j.rand(DataType.FLOAT, 2000, 1).gt(0.5).castTo(DataType.FLOAT);
var m = Sequential.withInput(1024).add(Dense(512, "relu")).add(Dense(1, "sigmoid"));
m.compile(Optimizer.RMSprop(1e-4), "binary_crossentropy", "accuracy");
""")
        reply, out, err, dt = k.run("var h = m.fit(xs, ys, 100000, 20, null, null);", interrupt_after=4.0)
        check("model.fit stops at a batch boundary", reply["status"] == "ok" and dt is not None and dt < LIMIT
              and "Training interrupted" in out, f"{dt:.2f}s, {reply['status']}, {err and err['evalue'][:200]}" if dt else "")
        _, out, err, _ = k.run("System.out.println(h.size() + \" epochs; prediction \" + m.predict(xs.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2))).shapeInfoToString().length());")
        check("the history and a usable model are kept", err is None and "epochs; prediction" in out, out.strip()[:80])

        folder = Path(cache) / "images" / "a"
        folder.mkdir(parents=True)
        k.run(f"""
var img = new java.awt.image.BufferedImage(300, 300, java.awt.image.BufferedImage.TYPE_INT_RGB);
for (int i = 0; i < 400; i++) javax.imageio.ImageIO.write(img, "png", new java.io.File("{folder}/i" + i + ".png"));
var big = Applications.vgg16().includeTop(false).inputShape(224, 224, 3).build();
var flow = ImageFolder.at(java.nio.file.Path.of("{folder.parent}")).targetSize(224, 224).batchSize(8).shuffle(false).build();
""")
        reply, out, err, dt = k.run("var feats = Features.extract(big, flow);", interrupt_after=6.0)
        entries = list((Path(cache) / "features").glob("*")) if (Path(cache) / "features").exists() else []
        check("Features.extract stops and caches nothing", dt is not None and dt < 30 and not entries
              and err is not None and "nothing was cached" in err["evalue"],
              f"{dt:.2f}s, entries {len(entries)}, {err and err['evalue'][:60]}" if dt else "")

        _, out, _, _ = k.run("m.summary();")
        html = [d for t, d in k.displays if t == "display_data" and "<table" in d.get("text/html", "")]
        check("summary() shows an HTML table with the text kept", bool(html) and "Total params" in html[0].get("text/plain", ""),
              str([t for t, _ in k.displays]))
        k.run("var h2 = m.fit(xs, ys, 2, 20, null, null);")
        updates = [d for t, d in k.displays if t == "update_display_data"]
        check("fit shows progress updated in place", len(updates) >= 1, f"{len(updates)} updates")
        _, out, _, _ = k.run("h2")
        shown = [d for t, d in k.displays if t == "execute_result"]
        check("a History at the end of a cell shows as an HTML table", bool(shown) and "<table" in shown[0].get("text/html", "")
              and "val_accuracy" in shown[0].get("text/plain", ""), str(shown)[:100])

        _, out, _, _ = k.run('for (int i = 0; i < 100_000; i++) System.out.println("a line of output " + i);')
        check("megabytes of output are cut with a note", len(out) <= (1 << 20) + 1000 and "[output truncated" in out,
              f"{len(out):,} characters received")

        reply, _, err, _ = k.run('int y = "not a number";')
        check("a compile error carries the diagnostic", err is not None and err["ename"] == "CompileError"
              and "incompatible types" in err["evalue"], str(err and (err["ename"], err["evalue"]))[:120])

        reply, _, err, _ = k.run('big.getLayer("block9_conv1");')
        tb = "\n".join(err["traceback"]) if err else ""
        check("a library error: message first, no JShell internals", err is not None and "block9_conv1" in err["evalue"]
              and "jdk.internal" not in tb and "jdk.jshell" not in tb and "block9_conv1" in (err["traceback"] or [""])[0],
              str(err and err["evalue"])[:100])

        iid = k.kc.inspect("Math.max(1, 2)", cursor_pos=7)
        while True:
            msg = k.kc.get_shell_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == iid:
                break
        rep = msg["content"]
        text = rep.get("data", {}).get("text/plain", "")
        check("inspect answers with a signature", rep.get("found") is True and "max(" in text, text[:80])
        iid = k.kc.inspect("io.transferlab.models.Model.of(", cursor_pos=29)
        while True:
            msg = k.kc.get_shell_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == iid:
                break
        text = msg["content"].get("data", {}).get("text/plain", "")
        check("inspect shows the library's Javadoc", "Keras's Model(inputs, outputs)" in text, text[:120])
    finally:
        k.stop()
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()

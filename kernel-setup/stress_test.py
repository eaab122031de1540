#!/usr/bin/python3
"""Start and stop the installed Jupyter kernel "java" many times in a row.

Each round: start the kernel (jupyter_client KernelManager, kernelspec taken
from the given prefix), wait until it answers kernel_info (default timeout
60 s), run one small cell that prints the Java version and checks that the
project library is on the kernel class path (Class.forName of Nd4j, without
initialising it), check the output, then send shutdown_request and wait for
the process to exit.

    /usr/bin/python3 kernel-setup/stress_test.py [--prefix DIR] [-n 50]

Prints one line per round and a summary line "N passed, M failed"; exits 1 if
any round failed (hang, error, wrong output, or a kernel that had to be killed
because it ignored shutdown_request).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

REPO = Path(__file__).resolve().parent.parent

CELL = r"""
String tlJava = System.getProperty("java.version");
String tlNd4j;
try {
    Class.forName("org.nd4j.linalg.factory.Nd4j", false, new Object(){}.getClass().getClassLoader());
    tlNd4j = "found";
} catch (ClassNotFoundException e) {
    tlNd4j = "missing";
}
System.out.println("TLCHECK java=" + tlJava + " nd4j=" + tlNd4j);
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--prefix", default=str(REPO / ".jupyter-env"),
                   help="Jupyter prefix the kernel was installed into "
                        "(kernelspec in PREFIX/share/jupyter/kernels; default: %(default)s)")
    p.add_argument("-n", "--count", type=int, default=50, help="number of start/stop rounds (default 50)")
    p.add_argument("--kernel", default="java", help="kernel name (default java)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to wait for the kernel to become ready, and for the cell (default 60)")
    p.add_argument("--shutdown-timeout", type=float, default=10.0,
                   help="seconds a kernel may take to exit after shutdown_request (default 10)")
    p.add_argument("--expect-lib", choices=["auto", "yes", "no"], default="auto",
                   help="require Nd4j on the kernel class path: yes, no, or auto = yes when "
                        "lib/target/transferlab.jar exists (default auto)")
    p.add_argument("--log-dir", default=None,
                   help="write kernel stdout/stderr (and a jstack of hung kernels) here; "
                        "default: discard kernel output, jstack goes to /tmp")
    p.add_argument("--stop-on-fail", action="store_true", help="stop after the first failed round")
    return p.parse_args()


def find_spec(prefix, name):
    """Kernelspec manager that looks in PREFIX first (also exported for child processes)."""
    data_dir = Path(prefix).resolve() / "share" / "jupyter"
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(data_dir) + (os.pathsep + old if old else "")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(name)
    except NoSuchKernel:
        sys.exit(f"stress_test: no kernel '{name}' in {data_dir}/kernels "
                 f"(install it with kernel-setup/install-kernel.sh --prefix {prefix})")
    if not Path(spec.resource_dir).resolve().is_relative_to(data_dir):
        print(f"stress_test: warning: using kernelspec {spec.resource_dir}, not one under {data_dir}",
              file=sys.stderr)
    return ksm, spec


def run_cell(kc, code, timeout):
    """Execute code; return (reply_status, stdout_text, error_text)."""
    msg_id = kc.execute(code, store_history=False)
    deadline = time.monotonic() + timeout
    out, err = [], []
    idle = False
    while not idle:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no idle status for the cell within {timeout:.0f} s")
        try:
            msg = kc.get_iopub_msg(timeout=left)
        except Empty:
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            (out if c.get("name") == "stdout" else err).append(c.get("text", ""))
        elif t == "error":
            err.append(f"{c.get('ename')}: {c.get('evalue')}")
        elif t in ("execute_result", "display_data"):
            data = c.get("data", {})
            out.append(data.get("text/plain") or data.get("text/html") or "")
        elif t == "status" and c.get("execution_state") == "idle":
            idle = True
    left = max(deadline - time.monotonic(), 1.0)
    reply = kc.get_shell_msg(timeout=left)
    while reply.get("parent_header", {}).get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=left)
    return reply["content"].get("status"), "".join(out), "".join(err)


def jstack(pid, path):
    try:
        r = subprocess.run(["jstack", str(pid)], capture_output=True, text=True, timeout=20)
        Path(path).write_text(r.stdout + r.stderr)
        return str(path)
    except Exception as e:  # jstack missing, process gone, ...
        return f"(jstack failed: {e})"


def one_round(i, args, ksm, expect_lib, log_dir):
    from jupyter_client import KernelManager
    times = {}
    km = KernelManager(kernel_name=args.kernel, kernel_spec_manager=ksm)
    km.shutdown_wait_time = 4.0
    log = None
    if log_dir:
        log = open(log_dir / f"kernel-{i:03d}.log", "w")
    popen_kw = dict(stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
    kc = None
    t0 = time.monotonic()
    try:
        km.start_kernel(**popen_kw)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=args.timeout)
        except RuntimeError as e:
            pid = km.provisioner.pid if km.provisioner else None
            where = jstack(pid, (log_dir or Path("/tmp")) / f"stress-hang-{i:03d}.jstack") if pid else ""
            return "hang at start", f"HANG at start: {e}" + (f"; jstack: {where}" if where else ""), times
        times["ready"] = time.monotonic() - t0

        t1 = time.monotonic()
        try:
            status, out, err = run_cell(kc, CELL, args.timeout)
        except (TimeoutError, Empty) as e:
            return "hang in cell", f"HANG in cell: {e}", times
        times["exec"] = time.monotonic() - t1
        line = next((ln for ln in out.splitlines() if ln.startswith("TLCHECK ")), None)
        if status != "ok" or line is None:
            return "cell failed", f"cell failed: status={status} out={out.strip()!r} err={err.strip()[:500]!r}", times
        fields = dict(kv.split("=", 1) for kv in line.split()[1:])
        if not fields.get("java"):
            return "cell failed", f"no java.version in {line!r}", times
        if expect_lib and fields.get("nd4j") != "found":
            return "library missing", f"library not on the kernel class path: {line!r}", times
        detail = line[len("TLCHECK "):]

        t2 = time.monotonic()
        kc.stop_channels()
        kc = None
        km.request_shutdown()
        deadline = time.monotonic() + args.shutdown_timeout
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if km.is_alive():
            pid = km.provisioner.pid if km.provisioner else None
            where = jstack(pid, (log_dir or Path("/tmp")) / f"stress-noexit-{i:03d}.jstack") if pid else ""
            km.finish_shutdown(waittime=2.0)
            km.cleanup_resources()
            return "no exit on shutdown", (f"kernel ignored shutdown_request for {args.shutdown_timeout:.0f} s (killed)"
                                           + (f"; jstack: {where}" if where else "")), times
        km.finish_shutdown(waittime=2.0)  # reaps the process
        km.cleanup_resources()
        times["shutdown"] = time.monotonic() - t2
        return None, detail, times
    except Exception as e:  # anything unexpected is a failed round, not a crash of the test
        return "error", f"{type(e).__name__}: {e}", times
    finally:
        if kc is not None:
            kc.stop_channels()
        if km.has_kernel:
            try:
                km.shutdown_kernel(now=True)
            except Exception:
                pass
        if log:
            log.close()


def main():
    # SIGTERM (e.g. kill) -> normal exit, so that the finally blocks stop the running kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    ksm, spec = find_spec(args.prefix, args.kernel)
    if args.expect_lib == "auto":
        expect_lib = (REPO / "lib" / "target" / "transferlab.jar").is_file()
    else:
        expect_lib = args.expect_lib == "yes"
    log_dir = None
    if args.log_dir:
        log_dir = Path(args.log_dir).resolve()
        log_dir.mkdir(parents=True, exist_ok=True)
    fix = spec.metadata.get("transferlab", {}).get("startup_fix")
    print(f"kernel '{args.kernel}' from {spec.resource_dir} (startup_fix={fix}); "
          f"{args.count} rounds, ready timeout {args.timeout:.0f} s, library expected: {expect_lib}",
          flush=True)

    passed, failed = 0, 0
    kinds = {}
    ready, execs, shutdowns = [], [], []
    started = time.monotonic()
    for i in range(1, args.count + 1):
        failure, detail, times = one_round(i, args, ksm, expect_lib, log_dir)
        ok = failure is None
        tstr = "  ".join(f"{k} {v:5.2f}s" for k, v in times.items())
        print(f"[{i:3d}/{args.count}] {'ok  ' if ok else 'FAIL'}  {tstr}  {detail}", flush=True)
        if ok:
            passed += 1
            ready.append(times["ready"])
            execs.append(times["exec"])
            shutdowns.append(times["shutdown"])
        else:
            failed += 1
            kinds[failure] = kinds.get(failure, 0) + 1
            if args.stop_on_fail:
                break

    total = time.monotonic() - started
    if ready:
        def stats(xs):
            return f"median {statistics.median(xs):.2f}s, min {min(xs):.2f}s, max {max(xs):.2f}s"
        print(f"start to ready: {stats(ready)}")
        print(f"cell:           {stats(execs)}")
        print(f"shutdown:       {stats(shutdowns)}")
    if kinds:
        print("failures: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"total {total:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

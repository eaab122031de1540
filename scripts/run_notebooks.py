#!/usr/bin/python3
"""Execute the Java notebooks headless and publish them as HTML.

    /usr/bin/python3 scripts/run_notebooks.py [--prefix JUPYTER_PREFIX] [--quick]
        [--out docs] [--timeout-cell 1800] [notebooks ...]

Each notebook (default: notebooks/*.ipynb, sorted) runs top to bottom in a
fresh "java" kernel (see kernel-setup/install-kernel.sh) with the notebook's
folder as working directory. The first cell error stops everything with exit
status 1 and a message naming the notebook, the cell and the kernel's error.
For every notebook that ran, <out>/<name>.html (self-contained: images are
embedded) is written, optionally <out>/<name>.ipynb, and finally
<out>/index.html (+ index.json) lists all notebooks with title, summary and
headline.

Parameters (papermill's convention): a notebook's code cell tagged
"parameters" declares the full run's values as plain Java variables
(int epochs = 30;). --quick sets TL_QUICK=1 for the kernel (the library reads
it: no downloads) and, in the executed copy only, inserts right after that cell
a cell tagged "injected-parameters" that assigns the notebook's quick values,
metadata transferlab.quick_parameters ({"epochs": "3"}: name -> Java expression).

Headline (the index's one-line result): metadata transferlab.headline is a
template whose {placeholders} are filled from the run. A placeholder names
either a parameter (the value the run used) or an entry of
metadata transferlab.headline_values: a regular expression with one group,
searched in the plain text of the code cells' outputs (the last match wins), or
{"pattern": regex, "match": n} for the n-th match (1-based; negative counts
from the end). Lines the library prints ("NOTE: ... generated sample",
"NOTE: ... RANDOM weights") add a remark to the headline.
"""

import argparse
import datetime as _dt
import html
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAG = re.compile(r"<[^>]+>")


def parse_args():
    p = argparse.ArgumentParser(
        description="Execute notebooks through the Java kernel and write HTML + an index.")
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    p.add_argument("--prefix", default=None,
                   help="Jupyter prefix holding the kernel (PREFIX/share/jupyter/kernels/java); "
                        "default: <repo>/.jupyter-env when it exists, else Jupyter's usual paths")
    p.add_argument("--kernel", default="java", help="kernel name (default: java)")
    p.add_argument("--quick", action="store_true",
                   help="quick mode (small, fast runs): set TL_QUICK=1 for the kernel and inject each notebook's "
                        "quick parameters (metadata transferlab.quick_parameters) after its parameters cell")
    p.add_argument("--out", default=str(REPO / "docs"), help="output folder (default: docs)")
    p.add_argument("--timeout-cell", type=int, default=1800,
                   help="seconds one cell may run (default: 1800)")
    p.add_argument("--startup-timeout", type=int, default=120,
                   help="seconds to wait for the kernel to start (default: 120)")
    p.add_argument("--save-ipynb", action="store_true",
                   help="also write the executed notebook to <out>/<name>.ipynb")
    p.add_argument("--no-index", action="store_true", help="do not write <out>/index.html")
    return p.parse_args()


# ------------------------------------------------------------------ kernel lookup

def setup_kernel_path(prefix, kernel):
    if prefix is None and (REPO / ".jupyter-env" / "share" / "jupyter" / "kernels" / kernel).is_dir():
        prefix = str(REPO / ".jupyter-env")
    if prefix is not None:
        data_dir = Path(prefix).resolve() / "share" / "jupyter"
        old = os.environ.get("JUPYTER_PATH")
        # JUPYTER_PATH is read by the kernel spec lookup of nbclient/jupyter_client
        os.environ["JUPYTER_PATH"] = str(data_dir) + (os.pathsep + old if old else "")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        where = f" in {prefix}/share/jupyter/kernels" if prefix else ""
        sys.exit(f"run_notebooks: no Jupyter kernel '{kernel}'{where}. Install it with:\n"
                 f"  kernel-setup/install-kernel.sh{' --prefix ' + prefix if prefix else ''}")
    return spec


# ------------------------------------------------------------------ notebook text helpers

def cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def title_and_summary(nb, fallback):
    title, summary = None, None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = cell_source(cell)
        if title is None:
            for line in text.splitlines():
                m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
                if m:
                    title = m.group(1)
                    break
        if summary is None:
            for para in re.split(r"\n\s*\n", text):
                lines = [ln for ln in para.strip().splitlines()
                         if not re.match(r"^\s{0,3}#{1,6}\s", ln)]
                para = " ".join(ln.strip() for ln in lines).strip()
                if para and not para.startswith(("```", "<", "|", "![")):
                    summary = para
                    break
        if title is not None and summary is not None:
            break
    return title or fallback, summary or ""


def output_texts(out):
    """Plain-text renderings of one cell output."""
    t = out.get("output_type")
    if t == "stream":
        yield out.get("text", "")
    elif t in ("execute_result", "display_data"):
        data = out.get("data", {})
        if "text/plain" in data:
            yield data["text/plain"]
        elif "text/markdown" in data:
            yield data["text/markdown"]
        elif "text/html" in data:  # the rapaio kernel renders plain values as HTML only
            raw = data["text/html"]
            raw = "".join(raw) if isinstance(raw, list) else raw
            raw = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</pre>|</tr>", "\n", raw)
            yield html.unescape(TAG.sub("", raw))


def coalesce_streams(nb):
    """Merge consecutive stdout (stderr) outputs of a cell into one.

    The rapaio kernel sends a printf in several stream messages and nbclient keeps
    each as its own output, which HTML shows as separate lines. Jupyter's own front
    ends merge them; do the same before saving or exporting."""
    for cell in nb.cells:
        outs = cell.get("outputs")
        if cell.cell_type != "code" or not outs:
            continue
        merged = []
        for out in outs:
            if (out.get("output_type") == "stream" and merged
                    and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == out.get("name")):
                prev = merged[-1]
                a, b = prev.get("text", ""), out.get("text", "")
                prev["text"] = ("".join(a) if isinstance(a, list) else a) + ("".join(b) if isinstance(b, list) else b)
            else:
                merged.append(out)
        cell["outputs"] = merged


def transferlab_meta(nb):
    meta = nb.metadata.get("transferlab", {})
    return meta if isinstance(meta, dict) else {}


# ------------------------------------------------------------------ parameters (papermill's convention)

DECLARATION = re.compile(r"^\s*(?:final\s+)?[\w.<>\[\], ]+?\s+(\w+)\s*=\s*(.+?);", re.M)


def cell_tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def parameters_cell(nb):
    cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "parameters" in cell_tags(c)]
    if len(cells) > 1:
        raise ValueError(f"{len(cells)} cells are tagged 'parameters'; one at most")
    return cells[0] if cells else None


def declared_parameters(nb):
    """name -> Java expression, as the parameters cell declares them (the full run's values)."""
    i = parameters_cell(nb)
    if i is None:
        return {}
    src = re.sub(r"//[^\n]*", "", cell_source(nb.cells[i]))
    return {m.group(1): m.group(2).strip() for m in DECLARATION.finditer(src)}


def inject_parameters(nb, values):
    """Insert, after the parameters cell, a cell tagged injected-parameters assigning values (papermill style).
    Returns the values the run uses: the declared ones with the injected ones over them."""
    declared = declared_parameters(nb)
    if not values:
        return declared
    i = parameters_cell(nb)
    if i is None:
        raise ValueError("metadata transferlab.quick_parameters is set but no cell is tagged 'parameters'")
    unknown = [k for k in values if k not in declared]
    if unknown:
        raise ValueError(f"quick_parameters {unknown} are not declared in the parameters cell "
                         f"(it declares {sorted(declared)})")
    import nbformat
    lines = ["// Injected parameters (scripts/run_notebooks.py --quick)"]
    lines += [f"{name} = {value};" for name, value in values.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    if nb.nbformat_minor < 5:  # cell ids exist from nbformat 4.5 on
        cell.pop("id", None)
    nb.cells.insert(i + 1, cell)
    return {**declared, **{k: str(v) for k, v in values.items()}}


# ------------------------------------------------------------------ headline

def output_lines(nb):
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            for text in output_texts(out):
                text = "".join(text) if isinstance(text, list) else text
                for line in ANSI.sub("", text).splitlines():
                    yield line.strip()


def find_headline(nb, parameters):
    """metadata transferlab.headline with its placeholders filled (see the module's doc). Raises ValueError when
    a placeholder finds no value: the headline would otherwise quietly lose its figures."""
    meta = transferlab_meta(nb)
    template = meta.get("headline", "")
    if not template:
        return ""
    text = "\n".join(output_lines(nb))
    specs = meta.get("headline_values", {})
    values = {}
    for name in re.findall(r"{(\w+)}", template):
        if name in specs:
            spec = specs[name]
            pattern, n = (spec, -1) if isinstance(spec, str) else (spec["pattern"], spec.get("match", -1))
            found = [m.group(1) for m in re.finditer(pattern, text, re.M)]
            if not found or abs(n) > len(found) or n == 0:
                raise ValueError(f"headline value {{{name}}}: no match {n} of /{pattern}/ in the outputs "
                                 f"({len(found)} matches)")
            values[name] = found[n - 1 if n > 0 else n]
        elif name in parameters:
            v = str(parameters[name])
            values[name] = v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v  # a Java string literal: its text
        else:
            raise ValueError(f"headline placeholder {{{name}}} is neither in metadata transferlab.headline_values "
                             f"nor a parameter")
    headline = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)
    remarks = []
    if re.search(r"^NOTE: .*generated sample", text, re.M):
        remarks.append("generated sample data")
    if re.search(r"^NOTE: .*RANDOM weights", text, re.M):
        remarks.append("random weights")
    return headline + (f" (this run: {', '.join(remarks)})" if remarks else "")


def inline_md(text):
    """Tiny Markdown subset (code, bold, italics, links) for the index page."""
    s = html.escape(text, quote=False)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
    s = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", s)
    s = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
               lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', s)
    return s


# ------------------------------------------------------------------ execution

class Progress:
    def __init__(self, label, nb):
        self.label = label
        self.n = len(nb.cells)
        self.code_total = sum(1 for c in nb.cells if c.cell_type == "code" and cell_source(c).strip())
        self.code_seen = 0
        self.index = None
        self.t0 = None

    def on_cell_start(self, cell, cell_index, **_):
        self.index = cell_index

    def on_cell_execute(self, cell, cell_index, **_):
        self.code_seen += 1
        self.t0 = time.monotonic()
        first = next((ln.strip() for ln in cell_source(cell).splitlines() if ln.strip()), "")
        if len(first) > 60:
            first = first[:57] + "..."
        print(f"  {self.label}: cell {cell_index + 1}/{self.n} (code {self.code_seen}/{self.code_total}) "
              f"{first}", flush=True)

    def on_cell_executed(self, cell, cell_index, execute_reply=None, **_):
        status = (execute_reply or {}).get("content", {}).get("status", "?")
        print(f"  {self.label}: cell {cell_index + 1}/{self.n} {status} "
              f"{time.monotonic() - self.t0:.1f}s", flush=True)

    def where(self):
        if self.index is None:
            return "before the first cell (kernel start)"
        return f"cell {self.index + 1} of {self.n} (code cell {self.code_seen} of {self.code_total})"


def error_text(exc):
    text = ANSI.sub("", str(exc)).strip()
    # nbclient repeats the cell source between two dashed lines; it is printed separately
    m = re.match(r"An error occurred while executing the following cell:\n-+\n.*?\n-+\n", text, re.S)
    return text[m.end():].strip() if m else text


def why_the_kernel_died(cwd, since):
    """The JVM writes hs_err_pid<N>.log into the kernel's working folder when it crashes in native code: point at
    it (moved to the temp folder, out of the notebooks) with its headline; without one, memory is the usual cause."""
    started = time.time() - (time.monotonic() - since)
    crashes = [f for f in Path(cwd).glob("hs_err_pid*.log") if f.stat().st_mtime >= started - 1]
    if not crashes:
        return "  no JVM crash report: out of memory? try TL_KERNEL_XMX=... (or see the kernel log)"
    report = max(crashes, key=lambda f: f.stat().st_mtime)
    kept = Path(tempfile.gettempdir()) / report.name
    shutil.move(str(report), kept)
    lines = kept.read_text(errors="replace").splitlines()
    head = [l[2:].strip() for l in lines[:12] if l.startswith("# ") and l[2:].strip()
            and not l.startswith("# If you") and "bug report" not in l and "core dump" not in l.lower()]
    frames = []
    for i, l in enumerate(lines):
        if l.startswith("Native frames:") or l.startswith("Java frames:"):
            frames += [f.strip() for f in lines[i + 1:i + 9] if f.strip()]
    detail = "\n".join("    " + l for l in head + frames[:10])
    return f"  the JVM crashed in native code; crash report: {kept}\n{detail}"


def first_error_output(nb):
    """(cell index, message) of the first error output, or None. The kernel reports an error inside a magic
    (%load of a script whose import fails, say) as an output while the cell's status stays "ok"."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = "\n".join(ANSI.sub("", t) for t in out.get("traceback", []))
                return i, (f"the kernel reported an error:\n{out.get('ename', '')}: {out.get('evalue', '')}\n"
                           f"{trace}").strip()
    return None


def run_one(path, args, label, kernel_log):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    attempts = 2  # one retry if the kernel fails to start (not if a cell fails)
    for attempt in range(1, attempts + 1):
        nb = nbformat.read(path, as_version=4)
        quick_values = transferlab_meta(nb).get("quick_parameters", {}) if args.quick_mode else {}
        parameters = inject_parameters(nb, quick_values)
        prog = Progress(label, nb)
        client = NotebookClient(
            nb,
            kernel_name=args.kernel,
            timeout=args.timeout_cell,
            startup_timeout=args.startup_timeout,
            allow_errors=False,
            record_timing=True,
            resources={"metadata": {"path": str(path.parent)}},
            on_cell_start=prog.on_cell_start,
            on_cell_execute=prog.on_cell_execute,
            on_cell_executed=prog.on_cell_executed,
        )
        t0 = time.monotonic()
        with open(kernel_log, "w") as log:
            try:
                # start_kernel kwargs: kernel stdout/stderr go to a log file
                client.execute(cwd=str(path.parent), stdout=log, stderr=log)
                error = first_error_output(nb)
                if error is not None:
                    prog.index, message = error
                    return nb, parameters, time.monotonic() - t0, (prog, message)
                return nb, parameters, time.monotonic() - t0, None
            except CellExecutionError as e:
                return nb, parameters, time.monotonic() - t0, (prog, f"the kernel reported an error:\n{error_text(e)}")
            except CellTimeoutError as e:
                return nb, parameters, time.monotonic() - t0, (prog, f"cell timed out after {args.timeout_cell} s "
                                                          f"(--timeout-cell): {error_text(e)}")
            except DeadKernelError as e:
                return nb, parameters, time.monotonic() - t0, (prog, f"the kernel died: {error_text(e)}\n"
                                                          f"{why_the_kernel_died(path.parent, t0)}")
            except (RuntimeError, TimeoutError) as e:
                if prog.index is None and attempt < attempts:
                    print(f"  {label}: kernel did not start ({error_text(e)}); retrying", flush=True)
                    continue
                return nb, parameters, time.monotonic() - t0, (prog, f"{type(e).__name__}: {error_text(e)}")
    raise AssertionError("unreachable")


CDN_URLS = {
    "require_js_url": "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js",
    "mathjax_url": "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "jquery_url": "https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.3/jquery.min.js",
}


def export_html(nb, title):
    from nbconvert import HTMLExporter
    exporter = HTMLExporter()
    exporter.embed_images = True  # also inline images referenced from Markdown
    # Debian's nbconvert points these at file:///usr/share/javascript/..., which
    # breaks the page anywhere else; use the upstream nbconvert (CDN) defaults.
    for trait, url in CDN_URLS.items():
        if str(getattr(exporter, trait, "")).startswith("file:"):
            setattr(exporter, trait, url)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


# ------------------------------------------------------------------ index

INDEX_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
     max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.7rem;margin-bottom:.2rem}
.meta{color:#666;font-size:.9rem}
.nb{border:1px solid #ddd;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
.nb h2{font-size:1.25rem;margin:0 0 .3rem 0}
.nb h2 a{text-decoration:none;color:#0b5cad}
.headline{background:#eef6ee;border-left:4px solid #3a8a3a;padding:.4rem .7rem;margin:.6rem 0;font-weight:600}
.file{font-family:monospace;color:#666;font-size:.85rem}
code{background:#f4f4f4;padding:0 .2rem;border-radius:3px}
"""


def write_index(out_dir, entries):
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Notebooks</title>",
        f"<style>{INDEX_CSS}</style></head><body>",
        "<h1>Notebooks</h1>",
        f'<p class="meta">Executed headless with the Java kernel; page generated '
        f'{html.escape(_dt.datetime.now().strftime("%Y-%m-%d %H:%M"))}.</p>',
    ]
    for e in entries:
        links = [f'<a href="{html.escape(e["html"])}">HTML</a>']
        if e.get("ipynb"):
            links.append(f'<a href="{html.escape(e["ipynb"])}">ipynb</a>')
        parts.append('<div class="nb">')
        parts.append(f'<h2><a href="{html.escape(e["html"])}">{inline_md(e["title"])}</a></h2>')
        if e.get("headline"):
            parts.append(f'<div class="headline">{inline_md(e["headline"])}</div>')
        if e.get("summary"):
            parts.append(f"<p>{inline_md(e['summary'])}</p>")
        mode = "quick run" if e.get("quick") else "full run"
        parts.append(f'<p class="meta"><span class="file">{html.escape(e["notebook"])}</span> · '
                     f'{mode}, {e["seconds"]:.0f} s, executed {html.escape(e["executed"])} · '
                     f'{" · ".join(links)}</p>')
        parts.append("</div>")
    parts.append("</body></html>")
    (out_dir / "index.html").write_text("\n".join(parts) + "\n", encoding="utf-8")
    (out_dir / "index.json").write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def merge_entries(out_dir, new_entries, all_notebooks):
    """Entries of this run, plus earlier ones (index.json) for notebooks not run now."""
    old = {}
    try:
        for e in json.loads((out_dir / "index.json").read_text(encoding="utf-8")):
            old[e["notebook"]] = e
    except (OSError, ValueError, KeyError, TypeError):
        pass
    merged = dict(old)
    merged.update({e["notebook"]: e for e in new_entries})
    order = {p.name: i for i, p in enumerate(all_notebooks)}
    keep = [e for name, e in merged.items()
            if (name in order or name in {x["notebook"] for x in new_entries})
            and (out_dir / e["html"]).is_file()]
    return sorted(keep, key=lambda e: (order.get(e["notebook"], len(order)), e["notebook"]))


# ------------------------------------------------------------------ main

def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # let nbclient stop the kernel
    args = parse_args()
    nb_dir = REPO / "notebooks"
    all_notebooks = sorted(nb_dir.glob("*.ipynb"))
    if args.notebooks:
        notebooks = [Path(p).resolve() for p in args.notebooks]
    else:
        notebooks = all_notebooks
    if not notebooks:
        sys.exit(f"run_notebooks: no notebooks given and none in {nb_dir}")
    for p in notebooks:
        if not p.is_file():
            sys.exit(f"run_notebooks: no such notebook: {p}")

    spec = setup_kernel_path(args.prefix, args.kernel)
    if args.quick:
        os.environ["TL_QUICK"] = "1"
    quick = os.environ.get("TL_QUICK", "") not in ("", "0", "false")
    args.quick_mode = quick
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"kernel '{args.kernel}' from {spec.resource_dir}; {len(notebooks)} notebook(s); "
          f"{'quick' if quick else 'full'} mode; output in {out_dir}", flush=True)

    entries = []
    total_t0 = time.monotonic()
    for k, path in enumerate(notebooks, 1):
        label = f"[{k}/{len(notebooks)}] {path.name}"
        kernel_log = Path(tempfile.gettempdir()) / f"run_notebooks-{path.stem}.kernel.log"
        print(f"{label}: executing", flush=True)
        try:
            nb, parameters, seconds, failure = run_one(path, args, label, kernel_log)
        except ValueError as e:  # parameters the notebook's metadata and cells disagree on
            print(f"\nFAILED: notebook {path}: {e}", file=sys.stderr)
            return 1
        coalesce_streams(nb)
        title, summary = title_and_summary(nb, path.stem)

        if failure is not None:
            prog, message = failure
            failed_html = Path(tempfile.gettempdir()) / f"run_notebooks-{path.stem}.failed.html"
            try:
                failed_html.write_text(export_html(nb, title), encoding="utf-8")
            except Exception as e:  # best effort only
                failed_html = f"(not written: {e})"
            src = ""
            if prog.index is not None and prog.index < len(nb.cells):
                lines = cell_source(nb.cells[prog.index]).splitlines()
                src = "\n".join("    | " + ln for ln in lines[:15])
                if len(lines) > 15:
                    src += f"\n    | ... ({len(lines) - 15} more lines)"
            print(f"\nFAILED: notebook {path} at {prog.where()} after {seconds:.0f} s\n"
                  + (f"  cell source:\n{src}\n" if src else "")
                  + f"  {message}\n"
                  f"  partial output: {failed_html}\n  kernel log: {kernel_log}", file=sys.stderr)
            return 1

        html_name = f"{path.stem}.html"
        (out_dir / html_name).write_text(export_html(nb, title), encoding="utf-8")
        ipynb_name = None
        if args.save_ipynb:
            import nbformat
            ipynb_name = f"{path.stem}.ipynb"
            nbformat.write(nb, str(out_dir / ipynb_name))
        try:
            headline = find_headline(nb, parameters)
        except ValueError as e:
            print(f"\nFAILED: notebook {path}: its headline: {e}\n  output: {out_dir / html_name}", file=sys.stderr)
            return 1
        entries.append({
            "notebook": path.name,
            "title": title,
            "summary": summary,
            "headline": headline,
            "html": html_name,
            "ipynb": ipynb_name,
            "seconds": round(seconds, 1),
            "quick": quick,
            "executed": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        })
        print(f"{label}: ok in {seconds:.1f}s -> {out_dir / html_name}"
              + (f"\n{label}: Headline: {headline}" if headline else ""), flush=True)

    if not args.no_index:
        merged = merge_entries(out_dir, entries, all_notebooks)
        write_index(out_dir, merged)
        print(f"index: {out_dir / 'index.html'} ({len(merged)} notebook(s))")
    print(f"{len(entries)} notebook(s) ok in {time.monotonic() - total_t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

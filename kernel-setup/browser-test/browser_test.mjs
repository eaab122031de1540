// A real browser through a real notebook: Debian's Jupyter Notebook serves a copy of notebook 01 with the "java"
// kernel, headless Chromium (driven by playwright-core) runs all its cells, checks that the summary text, an HTML
// table and an image appear, presses interrupt on a running cell and sees the kernel go idle and keep working, and
// saves screenshots under docs/browser/. Prints "N passed, M failed"; exits 1 on a failure, 0 with a message when
// Chromium or Jupyter Notebook is not installed (skipped).
//
//   node kernel-setup/browser-test/browser_test.mjs JUPYTER_PREFIX
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const prefix = process.argv[2] || path.join(repo, ".jupyter-env");
const chromiumPath = "/usr/bin/chromium";
const notebookCmd = "/usr/bin/jupyter-notebook";

if (!fs.existsSync(chromiumPath) || !fs.existsSync(notebookCmd)) {
  console.log(`browser test skipped: ${chromiumPath} or ${notebookCmd} is missing (apt-get install chromium jupyter-notebook)`);
  process.exit(0);
}
const { chromium } = await import("playwright-core");

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = fs.mkdtempSync(path.join(os.tmpdir(), "tl-browser-"));
for (const f of ["01_vgg16_summaries.ipynb", "setup.jsh"]) {
  fs.copyFileSync(path.join(repo, "notebooks", f), path.join(work, f));
}
const shots = path.join(repo, "docs", "browser");
fs.mkdirSync(shots, { recursive: true });
const port = await freePort();
const serverLog = fs.openSync(path.join(work, "notebook-server.log"), "w");
const server = spawn(notebookCmd, ["--no-browser", "--allow-root", "--ip=127.0.0.1", `--port=${port}`,
  "--NotebookApp.token=", "--NotebookApp.password=", `--notebook-dir=${work}`], {
  env: { ...process.env, JUPYTER_PATH: path.join(prefix, "share", "jupyter"), TL_QUICK: "1" },
  stdio: ["ignore", serverLog, serverLog],
});

const results = [];
function check(name, ok, detail = "") {
  results.push(ok);
  console.log(`${ok ? "ok  " : "FAIL"}  ${name}${detail ? `  (${detail})` : ""}`);
}

let browser;
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/api`)).ok) break; } catch { /* not yet */ }
    if (i > 100) throw new Error("Jupyter Notebook did not start: see " + path.join(work, "notebook-server.log"));
    await sleep(300);
  }
  browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${base}/notebooks/01_vgg16_summaries.ipynb`);
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel
    && Jupyter.notebook.kernel.is_connected(), null, { timeout: 120000 });
  await page.evaluate(() => Jupyter.notebook.execute_all_cells());
  await page.waitForFunction(() => Jupyter.notebook.get_cells().filter((c) => c.cell_type === "code")
    .every((c) => c.input_prompt_number !== "*" && c.input_prompt_number !== null && c.input_prompt_number !== undefined),
    null, { timeout: 300000, polling: 500 });
  const text = await page.evaluate(() => document.querySelector("#notebook").innerText);
  const errors = await page.evaluate(() => document.querySelectorAll(".output_error").length);
  check("notebook 01 runs every cell in the browser", errors === 0, `${errors} error outputs`);
  check("the summary text appears", text.includes("Total params: 14,714,688") && text.includes("block5_pool"));
  const tables = await page.evaluate(() => document.querySelectorAll(".output_area table").length);
  check("summaries show as HTML tables", tables > 0, `${tables} tables`);
  await page.screenshot({ path: path.join(shots, "notebook-01.png"), fullPage: false });

  // an image: a plot from the library, in a new cell
  await page.evaluate(() => {
    const c = Jupyter.notebook.insert_cell_at_bottom("code");
    c.set_text("var h = new History(); h.add(new EpochLog(1, 0.7, 0.5, 0.69, 0.55, 1)); h.add(new EpochLog(2, 0.5, 0.7, 0.6, 0.65, 1));\nPlots.accuracyAndLoss(h)");
    c.execute();
  });
  await page.waitForFunction(() => { const cs = Jupyter.notebook.get_cells(); const c = cs[cs.length - 1];
    return c.input_prompt_number !== "*" && c.input_prompt_number; }, null, { timeout: 120000, polling: 300 });
  const images = await page.evaluate(() => { const cs = Jupyter.notebook.get_cells();
    return cs[cs.length - 1].element[0].querySelectorAll(".output_area img").length; });
  check("an image output appears", images > 0, `${images} images`);

  // interrupt a running cell with the kernel's interrupt (the stop button)
  await page.evaluate(() => {
    const c = Jupyter.notebook.insert_cell_at_bottom("code");
    c.set_text("long spins = 0; while (true) { spins++; }");
    c.execute();
  });
  await sleep(2000);
  const t0 = Date.now();
  await page.evaluate(() => Jupyter.notebook.kernel.interrupt());
  await page.waitForFunction(() => { const cs = Jupyter.notebook.get_cells(); const c = cs[cs.length - 1];
    return c.input_prompt_number !== "*" && c.input_prompt_number; }, null, { timeout: 15000, polling: 100 });
  const seconds = (Date.now() - t0) / 1000;
  const said = await page.evaluate(() => { const cs = Jupyter.notebook.get_cells(); return cs[cs.length - 1].element[0].innerText; });
  check("interrupt stops a busy cell", seconds < 5 && /Interrupt/.test(said), `${seconds.toFixed(1)} s`);
  await page.evaluate(() => {
    const c = Jupyter.notebook.insert_cell_at_bottom("code");
    c.set_text("System.out.println(\"alive \" + (spins > 0));");
    c.execute();
  });
  await page.waitForFunction(() => { const cs = Jupyter.notebook.get_cells(); const c = cs[cs.length - 1];
    return c.input_prompt_number !== "*" && c.input_prompt_number; }, null, { timeout: 30000, polling: 200 });
  const alive = await page.evaluate(() => { const cs = Jupyter.notebook.get_cells(); return cs[cs.length - 1].element[0].innerText; });
  check("the kernel keeps its variables after the interrupt", alive.includes("alive true"), alive.trim().slice(-40));
  await page.evaluate(() => Jupyter.notebook.get_cells()[Jupyter.notebook.ncells() - 3].element[0].scrollIntoView());
  await page.screenshot({ path: path.join(shots, "interrupt.png") });
  await page.evaluate(() => Jupyter.notebook.kernel.kill());
} catch (e) {
  check("browser session", false, String(e).slice(0, 300));
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
}
const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);

#!/usr/bin/env bash
# The project's whole test run: unit tests (lib/), the kernel start stress test, and every notebook executed
# through the kernel in quick mode. Prints a closing line "N passed, N failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

scripts/setup.sh

echo "== unit tests (lib/) =="
log=lib/target/unit-tests.log
rm -rf lib/target/surefire-reports   # reports of tests that were moved or renamed would be counted
mkdir -p lib/target
status=0
mvn -B -ntp -f lib/pom.xml test >"$log" 2>&1 || status=$?
grep -E 'Tests run|FAIL|ERROR|BUILD|expected:|Exception|at io\.transferlab|SKIP' "$log" | grep -v '^\[main\] INFO' || true
[ "$status" = 0 ] || { echo "unit tests failed (full log: $log)"; exit 1; }
echo "== modules: ONNX export (onnx/) and Spark (spark/) =="
mlog=lib/target/module-tests.log
rm -rf onnx/target/surefire-reports spark/target/surefire-reports
status=0
mvn -B -ntp -f pom.xml -pl onnx,spark -am test -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtest='io/transferlab/onnx/**/*Test,io/transferlab/spark/**/*Test' >"$mlog" 2>&1 || status=$?
grep -E 'Tests run:|FAIL|BUILD|expected:|Exception' "$mlog" | grep -v '^\[main\] INFO' | tail -20 || true
[ "$status" = 0 ] || { echo "module tests failed (full log: $mlog)"; exit 1; }
unit=$(cat lib/target/surefire-reports/*.txt onnx/target/surefire-reports/*.txt spark/target/surefire-reports/*.txt | sed -nE 's/^Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+).*/\1 \2 \3 \4/p' \
       | awk '{run+=$1; bad+=$2+$3; skip+=$4} END {print run-bad-skip, bad, skip}')
read -r unit_ok unit_bad unit_skip <<<"$unit"

echo "== kernel start stress test =="
starts=${TL_STRESS_STARTS:-50}
"$TL_PYTHON" kernel-setup/stress_test.py --prefix "$TL_JUPYTER_PREFIX" --count "$starts" --expect-lib yes \
    --log-dir lib/target/stress-logs || { tail -n 40 lib/target/stress-logs/*.jstack 2>/dev/null; exit 1; }

echo "== the kernel used interactively (interrupt, errors, help) =="
ilog=lib/target/interactive-test.log
"$TL_PYTHON" kernel-setup/interactive_test.py --prefix "$TL_JUPYTER_PREFIX" | tee "$ilog" || { echo "interactive kernel test failed"; exit 1; }
interactive=$(sed -nE 's/^([0-9]+) passed, 0 failed$/\1/p' "$ilog")

echo "== a real browser (headless Chromium, Jupyter Notebook) =="
browser=0
if command -v node >/dev/null && command -v npm >/dev/null && [ -x /usr/bin/chromium ] && [ -x /usr/bin/jupyter-notebook ]; then
    (cd kernel-setup/browser-test && npm ci --no-audit --no-fund --silent) || { echo "npm ci failed in kernel-setup/browser-test"; exit 1; }
    blog=lib/target/browser-test.log
    node kernel-setup/browser-test/browser_test.mjs "$TL_JUPYTER_PREFIX" | tee "$blog" || { echo "browser test failed"; exit 1; }
    browser=$(sed -nE 's/^([0-9]+) passed, 0 failed$/\1/p' "$blog")
else
    echo "browser test skipped: it needs node and npm, and Debian's chromium and jupyter-notebook (apt-get install chromium jupyter-notebook)"
fi

echo "== notebooks (quick mode) =="
out="$REPO/lib/target/notebook-test"
"$TL_PYTHON" scripts/run_notebooks.py --prefix "$TL_JUPYTER_PREFIX" --quick --out "$out"
notebooks=$(ls notebooks/*.ipynb | wc -l)

echo
echo "unit tests: $unit_ok passed ($unit_skip skipped); kernel: $starts starts, $interactive interactive checks, $browser browser checks; notebooks: $notebooks executed"
echo "$((unit_ok + 1 + interactive + browser + notebooks)) passed, $unit_bad failed, $unit_skip skipped"

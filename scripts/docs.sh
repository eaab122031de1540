#!/usr/bin/env bash
# Renders every notebook, executed with its outputs, to docs/ (HTML and an index page).
# Full mode by default; TL_QUICK=1 for the short run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
scripts/setup.sh
quick=()
[ "${TL_QUICK:-0}" = 1 ] && quick=(--quick)
"$TL_PYTHON" scripts/run_notebooks.py --prefix "$TL_JUPYTER_PREFIX" --out "$REPO/docs" "${quick[@]}" "$@"
echo "docs: open $REPO/docs/index.html"

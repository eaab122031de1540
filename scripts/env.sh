# Sourced by the scripts in scripts/: finds the tools and sets the paths they share.
# Override any of these from the environment.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
export REPO
if [ -z "${TL_PYTHON:-}" ]; then
    if [ -n "${CONDA_PREFIX:-}" ] && [ -x "$CONDA_PREFIX/bin/jupyter" ]; then
        TL_PYTHON="$CONDA_PREFIX/bin/python"          # inside the project's conda env
        TL_JUPYTER_PREFIX="${TL_JUPYTER_PREFIX:-$CONDA_PREFIX}"
    else
        TL_PYTHON=/usr/bin/python3                   # Debian's Jupyter (not pyenv's python3)
    fi
fi
TL_JUPYTER_PREFIX="${TL_JUPYTER_PREFIX:-$REPO/.jupyter-env}"
export TL_PYTHON TL_JUPYTER_PREFIX
export JUPYTER="${JUPYTER:-$(dirname "$TL_PYTHON")/jupyter}"

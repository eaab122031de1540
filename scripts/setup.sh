#!/usr/bin/env bash
# Everything the notebooks need, idempotent: Jupyter (Debian packages when run as root on Debian; otherwise
# say what to install), the library built with its dependencies, and the "java" kernel installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

say() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

# --- JDK and Maven ---
command -v javac >/dev/null && command -v jshell >/dev/null \
    || die "a JDK 17 or newer is needed (javac and jshell), e.g. apt-get install openjdk-17-jdk-headless, or conda env create -f environment.yml"
jv=$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')
[ "${jv:-0}" -ge 17 ] 2>/dev/null || die "JDK 17 or newer needed, found javac $jv"
command -v mvn >/dev/null || die "Maven is needed: apt-get install maven, or conda env create -f environment.yml"

# --- Jupyter (runner needs jupyter_client, nbclient, nbconvert) ---
have_jupyter() { "$TL_PYTHON" -c 'import jupyter_client, nbclient, nbconvert, nbformat' 2>/dev/null && [ -x "$JUPYTER" ]; }
if ! have_jupyter; then
    if [ "$TL_PYTHON" = /usr/bin/python3 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's Jupyter packages (jupyter-client, jupyter-nbconvert, python3-nbclient)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq jupyter-client jupyter-nbconvert python3-nbclient >/dev/null
    fi
    have_jupyter || die "Jupyter not found for $TL_PYTHON. Install it with: sudo apt-get install jupyter-client jupyter-nbconvert python3-nbclient, or: conda env create -f environment.yml && conda activate transferlab"
fi

# --- libturbojpeg (optional): JPEG decoding with SIMD, about twice as fast; without it OpenCV's slower decoder is used ---
have_turbojpeg() {
    [ -n "${CONDA_PREFIX:-}" ] && [ -e "$CONDA_PREFIX/lib/libturbojpeg.so.0" ] && return 0
    local cache
    cache=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)
    case "$cache" in *libturbojpeg.so.0*) return 0 ;; esac
    return 1
}
if ! have_turbojpeg; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's libturbojpeg0 (JPEG decoding with SIMD)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq libturbojpeg0 >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libturbojpeg0 >/dev/null 2>&1; } \
            || say "could not install libturbojpeg0: JPEGs will be decoded without SIMD (slower)"
    else
        say "libturbojpeg not found: JPEGs will be decoded without SIMD (slower); install it with: sudo apt-get install libturbojpeg0, or conda install -c conda-forge libjpeg-turbo"
    fi
fi

# --- the library and its dependencies (incremental: Maven skips what is up to date) ---
say "building lib/ (Maven; the first build downloads about 200 MB of dependencies)"
# copy-dependencies never removes a jar that the pom no longer asks for: start from an empty folder so that no
# stale version (two versions of one library on the kernel's class path) survives a dependency change
rm -rf lib/target/dependency
mvn -q -B -f lib/pom.xml -DskipTests package dependency:copy-dependencies -DincludeScope=runtime
# the library's sources beside its jar: the kernel shows their Javadoc on Shift-Tab (kernel-setup/src/.../Help.java)
jar cf lib/target/transferlab-sources.jar -C lib/src/main/java .

# --- the kernel ---
JUPYTER="$JUPYTER" kernel-setup/install-kernel.sh --prefix "$TL_JUPYTER_PREFIX" --no-build >/dev/null
say "ready: kernel 'java' in $TL_JUPYTER_PREFIX"

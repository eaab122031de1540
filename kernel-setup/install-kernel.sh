#!/usr/bin/env bash
# Install the Java Jupyter kernel "java" (rapaio-jupyter-kernel 3.0.1, JShell
# based, with a start-up fix from kernel-setup/src) so that notebooks can use
# the project library without any %jars / %maven magics.
#
#   kernel-setup/install-kernel.sh [--prefix DIR | --user] [--no-build] [options]
#
# See --help. Needs: a JDK >= 17 (java, javac, jshell), Maven, Jupyter
# (jupyter-client; the notebook runner also needs nbclient and nbconvert).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/.." && pwd -P)

RJK_VERSION=3.0.1
KERNEL_JAR_NAME="rapaio-jupyter-kernel-$RJK_VERSION.jar"
TARGET="$HERE/target"
KERNEL_LIB="$TARGET/kernel-lib"
PATCH_CLASSES="$TARGET/kernel-patch"
SPEC_STAGE="$TARGET/kernelspec"
LIB_JAR="$REPO/lib/target/transferlab.jar"
LIB_DEPS="$REPO/lib/target/dependency"

PREFIX=""
USER_INSTALL=0
NAME="java"
DISPLAY_NAME="Java (transferlab)"
BUILD=1
PATCHED=1
XMX="${TL_KERNEL_XMX:-8g}"
INIT_SCRIPT="${TL_KERNEL_INIT_SCRIPT:-}"

usage() {
    cat <<EOF
Usage: kernel-setup/install-kernel.sh [options]

Installs the Jupyter kernel "$NAME" (Java 17+ via JShell, rapaio-jupyter-kernel
$RJK_VERSION) whose class path already holds the project library:
  $LIB_JAR
  $LIB_DEPS/*.jar

Where to install (default: --prefix $REPO/.jupyter-env):
  --prefix DIR       kernelspec goes to DIR/share/jupyter/kernels/$NAME
                     (e.g. a conda env: --prefix "\$CONDA_PREFIX"). For a prefix
                     that is not a Python env, make Jupyter see it with
                     JUPYTER_PATH=DIR/share/jupyter (scripts/run_notebooks.py
                     --prefix DIR does that).
  --user             the user's Jupyter data dir (~/.local/share/jupyter)

Options:
  --no-build         do not build lib/ even if $LIB_JAR is missing
  --name NAME        kernel name (default: java)
  --display-name S   name shown in Jupyter (default: "$DISPLAY_NAME")
  --xmx SIZE         default kernel heap (default: \$TL_KERNEL_XMX or 8g); at
                     run time TL_KERNEL_XMX in the environment of Jupyter wins
  --init-script FILE JShell script run at kernel start (RJK_INIT_SCRIPT)
  --unpatched        install the stock kernel start-up (MainApp) without the
                     start-up fix; only to reproduce the hang (stress_test.py)
  -h, --help         this help

Environment: JAVA_HOME (JDK to use; else java on PATH), JUPYTER (jupyter
command to use), MVN (maven command, default mvn).
EOF
}

die() { echo "install-kernel.sh: error: $*" >&2; exit 1; }
info() { echo "install-kernel.sh: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#*=}"; shift ;;
        --user) USER_INSTALL=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --name) [ $# -ge 2 ] || die "--name needs a value"; NAME="$2"; shift 2 ;;
        --display-name) [ $# -ge 2 ] || die "--display-name needs a value"; DISPLAY_NAME="$2"; shift 2 ;;
        --xmx) [ $# -ge 2 ] || die "--xmx needs a size, e.g. 8g"; XMX="$2"; shift 2 ;;
        --init-script) [ $# -ge 2 ] || die "--init-script needs a file"; INIT_SCRIPT="$2"; shift 2 ;;
        --unpatched) PATCHED=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[ "$USER_INSTALL" = 1 ] && [ -n "$PREFIX" ] && die "use either --prefix or --user, not both"
if [ "$USER_INSTALL" = 0 ] && [ -z "$PREFIX" ]; then
    PREFIX="$REPO/.jupyter-env"
fi
case "$NAME" in
    *[!A-Za-z0-9._-]*|"") die "bad kernel name '$NAME' (letters, digits, . _ - only)" ;;
esac
case "$XMX" in
    *[!0-9kKmMgGtT]*|"") die "bad heap size '$XMX' (e.g. 8g, 4096m)" ;;
esac

# Paths end up inside a /bin/sh command line and a JSON string: refuse the
# few characters that would need quoting there.
check_path() {
    case "$1" in
        *[\'\"\\\$\`]*) die "path with quote, backslash, \$ or backquote is not supported: $1" ;;
    esac
}
check_path "$REPO"

# ---------------------------------------------------------------- JDK
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    JAVA="$JAVA_HOME/bin/java"
elif command -v java >/dev/null 2>&1; then
    JAVA=$(command -v java)
else
    die "java not found: install a JDK >= 17 (e.g. apt-get install openjdk-17-jdk-headless, or conda install -c conda-forge openjdk=17) or set JAVA_HOME"
fi
JAVA=$(readlink -f "$JAVA")
JDK_BIN=$(dirname "$JAVA")
check_path "$JAVA"
for tool in javac jshell; do
    [ -x "$JDK_BIN/$tool" ] || die "$JAVA is a JRE, not a JDK: $JDK_BIN/$tool is missing (the kernel compiles cells with JShell). Install a JDK >= 17 (e.g. apt-get install openjdk-17-jdk-headless) or point JAVA_HOME at one"
done
JAVA_SPEC=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)
JAVA_MAJOR=${JAVA_SPEC#1.}
JAVA_MAJOR=${JAVA_MAJOR%%.*}
case "$JAVA_MAJOR" in
    ''|*[!0-9]*) die "could not read the Java version of $JAVA" ;;
esac
[ "$JAVA_MAJOR" -ge 17 ] || die "$JAVA is Java $JAVA_SPEC; the kernel needs a JDK >= 17"
JVM_OPTS="-Djava.awt.headless=true -Dfile.encoding=UTF-8"
if "$JAVA" --enable-native-access=ALL-UNNAMED -version >/dev/null 2>&1; then
    JVM_OPTS="$JVM_OPTS --enable-native-access=ALL-UNNAMED"
fi
info "JDK: $JDK_BIN (Java $JAVA_SPEC)"

# ---------------------------------------------------------------- Jupyter
jupyter_ok() { "$1" kernelspec list >/dev/null 2>&1; }
JUPYTER_CMD=""
for cand in "${JUPYTER:-}" "${PREFIX:+$PREFIX/bin/jupyter}" "$(command -v jupyter 2>/dev/null || true)" /usr/bin/jupyter; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if jupyter_ok "$cand"; then JUPYTER_CMD="$cand"; break; fi
done
[ -n "$JUPYTER_CMD" ] || die "jupyter not found${PREFIX:+ (neither in $PREFIX/bin nor on PATH)}: install with \`apt-get install jupyter-client jupyter-nbconvert python3-nbclient\` or \`conda env create -f environment.yml\` (or set JUPYTER=/path/to/jupyter)"
info "Jupyter: $JUPYTER_CMD"

MVN="${MVN:-mvn}"
command -v "$MVN" >/dev/null 2>&1 || die "maven not found ('$MVN'): install with \`apt-get install maven\` or \`conda install -c conda-forge maven\`"

# ---------------------------------------------------------------- project library
if [ ! -f "$LIB_JAR" ] || [ -z "$(ls -A "$LIB_DEPS" 2>/dev/null)" ]; then
    if [ "$BUILD" = 1 ] && [ -f "$REPO/lib/pom.xml" ]; then
        info "building the library (lib/target/transferlab.jar or lib/target/dependency/ is missing) ..."
        "$MVN" -q -B -f "$REPO/lib/pom.xml" -DskipTests package dependency:copy-dependencies -DincludeScope=runtime \
            || die "library build failed; fix it or use --no-build"
        [ -f "$LIB_JAR" ] || die "library build did not produce $LIB_JAR"
    else
        info "warning: $LIB_JAR or $LIB_DEPS/ is missing; the kernel is installed anyway but notebooks"
        info "         will not find the library until you run:"
        info "         mvn -q -B -f lib/pom.xml -DskipTests package dependency:copy-dependencies -DincludeScope=runtime"
    fi
fi

# ---------------------------------------------------------------- kernel jar + fix
KERNEL_JAR="$KERNEL_LIB/$KERNEL_JAR_NAME"
if [ ! -f "$KERNEL_JAR" ]; then
    info "fetching rapaio-jupyter-kernel $RJK_VERSION from Maven Central ..."
    "$MVN" -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KERNEL_LIB" \
        || die "could not fetch io.github.padreati:rapaio-jupyter-kernel:$RJK_VERSION with Maven"
    [ -f "$KERNEL_JAR" ] || die "maven did not produce $KERNEL_JAR"
fi

# Compile only when the sources changed, and swap the class folder in one step:
# a kernel starting meanwhile (setup re-runs this script) must not find it empty.
STAMP="$PATCH_CLASSES/.built-from"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$JAVA $KERNEL_JAR" ] \
        && [ -z "$(find "$HERE/src" -type f -newer "$STAMP")" ]; then
    info "start-up fix (kernel-setup/src) is up to date"
else
    info "compiling the start-up fix (kernel-setup/src) ..."
    NEW_CLASSES="$PATCH_CLASSES.new.$$"
    rm -rf "$NEW_CLASSES"
    mkdir -p "$NEW_CLASSES"
    # shellcheck disable=SC2046
    "$JDK_BIN/javac" --release 17 -nowarn -encoding UTF-8 -cp "$KERNEL_JAR" -d "$NEW_CLASSES" \
        $(find "$HERE/src" -name '*.java' | sort) \
        || { rm -rf "$NEW_CLASSES"; die "javac failed on kernel-setup/src"; }
    # resources (the display provider's service registration) go beside the classes
    ( cd "$HERE/src" && find . -type f ! -name '*.java' -exec cp --parents {} "$NEW_CLASSES/" \; )
    echo "$JAVA $KERNEL_JAR" > "$NEW_CLASSES/.built-from"
    rm -rf "$PATCH_CLASSES.old"
    [ -d "$PATCH_CLASSES" ] && mv "$PATCH_CLASSES" "$PATCH_CLASSES.old"
    mv "$NEW_CLASSES" "$PATCH_CLASSES"
    rm -rf "$PATCH_CLASSES.old"
fi

if [ "$PATCHED" = 1 ]; then
    KERNEL_CP="$PATCH_CLASSES:$KERNEL_JAR"
    MAIN_CLASS="io.transferlab.kernel.KernelLauncher"
else
    info "warning: --unpatched: installing the stock start-up, which hangs at start now and then (12 of 50 starts measured)"
    KERNEL_CP="$KERNEL_JAR"
    MAIN_CLASS="org.rapaio.jupyter.kernel.MainApp"
fi

if [ -n "$INIT_SCRIPT" ]; then
    [ -f "$INIT_SCRIPT" ] || die "init script not found: $INIT_SCRIPT"
    INIT_SCRIPT=$(cd "$(dirname "$INIT_SCRIPT")" && pwd -P)/$(basename "$INIT_SCRIPT")
    check_path "$INIT_SCRIPT"
fi

# ---------------------------------------------------------------- kernel.json
json_str() { # JSON string literal of $1 (paths are checked above; escape anyway)
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
# The kernel runs as: /bin/sh -c 'exec java -Xmx${TL_KERNEL_XMX:-<default>} ...' <connection file>
# so that TL_KERNEL_XMX set for Jupyter (or the notebook runner) changes the heap at run time.
# OMP_WAIT_POLICY=passive (unless set): the native libraries' OpenMP threads sleep at a barrier instead of spinning,
# which made the dense head 3-5x faster on a shared 2-core machine and cost nothing measurable on a quiet one.
SH_CMD="OMP_WAIT_POLICY=\"\${OMP_WAIT_POLICY:-passive}\" exec '$JAVA' -Xmx\"\${TL_KERNEL_XMX:-$XMX}\" $JVM_OPTS -cp '$KERNEL_CP' $MAIN_CLASS \"\$0\""
# RJK_CLASSPATH: ';'-separated, globs allowed. Absolute paths into this checkout.
RJK_CP="$LIB_JAR;$LIB_DEPS/*.jar"

rm -rf "$SPEC_STAGE"
mkdir -p "$SPEC_STAGE/$NAME"
{
    echo "{"
    echo "  \"argv\": ["
    echo "    \"/bin/sh\", \"-c\","
    echo "    $(json_str "$SH_CMD"),"
    echo "    \"{connection_file}\""
    echo "  ],"
    echo "  \"display_name\": $(json_str "$DISPLAY_NAME"),"
    echo "  \"language\": \"java\","
    echo "  \"interrupt_mode\": \"message\","
    echo "  \"env\": {"
    echo "    \"RJK_CLASSPATH\": $(json_str "$RJK_CP"),"
    echo "    \"RJK_INIT_SCRIPT\": $(json_str "$INIT_SCRIPT"),"
    echo "    \"RJK_TIMEOUT_MILLIS\": \"-1\","
    echo "    \"RJK_COMPILER_OPTIONS\": \"\""
    echo "  },"
    echo "  \"metadata\": {"
    echo "    \"transferlab\": {\"repo\": $(json_str "$REPO"), \"kernel\": \"rapaio-jupyter-kernel $RJK_VERSION\", \"startup_fix\": $([ "$PATCHED" = 1 ] && echo true || echo false)}"
    echo "  }"
    echo "}"
} > "$SPEC_STAGE/$NAME/kernel.json"

# ---------------------------------------------------------------- install
if [ "$USER_INSTALL" = 1 ]; then
    WHERE=(--user)
else
    mkdir -p "$PREFIX"
    PREFIX=$(cd "$PREFIX" && pwd -P)
    WHERE=(--prefix "$PREFIX")
    # the default project-local prefix lives in the checkout: keep it out of git
    if [ "$PREFIX" = "$REPO/.jupyter-env" ] && [ ! -e "$PREFIX/.gitignore" ]; then
        printf '# created by kernel-setup/install-kernel.sh\n*\n' > "$PREFIX/.gitignore"
    fi
fi
"$JUPYTER_CMD" kernelspec install --replace --name "$NAME" "${WHERE[@]}" "$SPEC_STAGE/$NAME" >&2 \
    || die "jupyter kernelspec install failed"

if [ "$USER_INSTALL" = 1 ]; then
    info "installed kernel '$NAME' for this user"
else
    info "installed kernel '$NAME' in $PREFIX/share/jupyter/kernels/$NAME"
    case "$PREFIX" in
        "$REPO/.jupyter-env"|"$REPO"/*)
            info "use it with: JUPYTER_PATH=$PREFIX/share/jupyter jupyter lab   (or scripts/run_notebooks.py --prefix $PREFIX)" ;;
    esac
fi

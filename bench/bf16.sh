#!/usr/bin/env bash
# float32 against mixed_bfloat16 (MixedPrecision) on Model.predict, in one process, rounds alternating:
#
#   bench/bf16.sh [vgg|inception|mobilenet] [rounds] [batches per round]     (default: vgg 7 3)
#
# VGG16 conv base 150x150 (InceptionV3 to mixed7 150x150, MobileNet 1.0 224x224), batch 20, random weights.
# Prints the CPU, oneDNN's version and ISA, the kernels each plan runs, the load average and the medians.
# ONEDNN_VERBOSE=1 in the environment makes oneDNN print every primitive it creates and runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${TL_BENCH_BUILD:-${TMPDIR:-/tmp}/transferlab-bf16-$(id -u)}"
mkdir -p "$BUILD"
( cd "$ROOT/lib" && mvn -q -B -o test-compile >"$BUILD/build.log" 2>&1 \
    && mvn -q -B -o dependency:build-classpath -Dmdep.outputFile="$BUILD/cp.txt" >>"$BUILD/build.log" 2>&1 ) \
    || { echo "build failed: see $BUILD/build.log" >&2; exit 1; }
exec "${JAVA:-java}" ${TL_JAVA_OPTS:--Xmx2g} -cp "$ROOT/lib/target/classes:$ROOT/lib/target/test-classes:$(cat "$BUILD/cp.txt")" \
    io.transferlab.engine.onednn.MixedPrecisionBench "$@"

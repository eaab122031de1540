#!/usr/bin/env bash
# The ONNX module's command line (io.transferlab.onnx.OnnxTool), without installing anything:
#   onnx/run.sh export MODEL.tlmodel OUT.onnx
#   onnx/run.sh compare MODEL.tlmodel MODEL.onnx IMAGE_OR_FOLDER...
# The class path is built once (onnx/target/run-classpath.txt) and again when a source file is newer.
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=onnx/target/run-classpath.txt
if [ ! -s "$cp_file" ] || [ -n "$(find lib/src/main onnx/src/main onnx/pom.xml lib/pom.xml -newer "$cp_file" -print -quit)" ]; then
    echo "building the ONNX module (first run: Maven downloads ONNX Runtime and protoc)..." >&2
    mkdir -p "$(dirname "$cp_file")"
    mvn -B -q -ntp -f pom.xml -pl onnx -am compile dependency:build-classpath \
        -Dmdep.outputFile=target/run-classpath.txt -Dmdep.includeScope=runtime >"${cp_file%.txt}.log" 2>&1 \
        || { cat "${cp_file%.txt}.log" >&2; echo "$0: building the module failed (log above)" >&2; exit 1; }
    touch "$cp_file"   # Maven leaves an unchanged class path file as it was: without this, every run rebuilt
fi
OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" exec java ${TL_JAVA_OPTS:-} -cp "onnx/target/classes:lib/target/classes:$(cat "$cp_file")" io.transferlab.onnx.OnnxTool "$@"

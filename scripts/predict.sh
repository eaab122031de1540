#!/usr/bin/env bash
# Prints the top classes of images with a model saved by model.save(path):
#   scripts/predict.sh [--top K] MODEL IMAGE_OR_FOLDER...
# Uses the class path scripts/setup.sh builds (lib/target/*.jar and lib/target/dependency/); exit status 1 when the
# model or an image given by name cannot be read, 2 for a wrong command line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/lib/target/transferlab.jar"
if [[ ! -f "$jar" || ! -d "$root/lib/target/dependency" ]]; then
    echo "predict.sh: the library is not built ($jar and lib/target/dependency/ are missing): run scripts/setup.sh first" >&2
    exit 1
fi
OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" exec java ${TL_JAVA_OPTS:-} -cp "$jar:$root/lib/target/dependency/*" io.transferlab.cli.Predict "$@"

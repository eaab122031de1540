#!/usr/bin/env bash
# Downloads a real dataset into data/downloads/ (or $TL_DATA), verified and laid out as class folders.
#   data/download.sh cats-and-dogs   # Microsoft's Kaggle archive -> cats_and_dogs_small: 2000 train / 1000 validation / 1000 test
#   data/download.sh flowers         # TensorFlow's flower_photos: 5 classes, 3670 photos
#   data/download.sh cifar10         # CIFAR-10 as PNG class folders: 50,000 train / 10,000 test
# Safe to interrupt and run again: it continues where it stopped.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
[ $# -ge 1 ] || { sed -n '2,6p' "$0"; exit 2; }
if [ ! -f "$REPO/lib/target/transferlab.jar" ]; then
    mvn -q -B -f "$REPO/lib/pom.xml" -DskipTests package dependency:copy-dependencies -DincludeScope=runtime
fi
exec java -cp "$REPO/lib/target/transferlab.jar:$REPO/lib/target/dependency/*" \
    io.transferlab.download.DatasetDownloads "$1" "${TL_DATA:-$REPO/data/downloads}"

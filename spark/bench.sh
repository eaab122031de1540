#!/usr/bin/env bash
# Feature extraction throughput: single process (Features.extract) against Spark local[1] and local[2], same images.
#   spark/bench.sh [IMAGES_PER_CLASS=50] [ROUNDS=3]      (needs TL_SHARED, default /work/shared)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TL_SHARED:=/work/shared}"
mvn -B -q -ntp -f pom.xml -pl spark -am compile dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test >/dev/null
OPENS=$(sed -n 's:.*<spark.java17.options>\(.*\)</spark.java17.options>.*:\1:p' spark/pom.xml)
# shellcheck disable=SC2086
OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" exec java -Xmx4g $OPENS -cp "spark/target/classes:lib/target/classes:$(cat spark/target/classpath.txt)" \
    io.transferlab.spark.SparkBench "$TL_SHARED" "${1:-50}" "${2:-3}"

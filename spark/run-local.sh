#!/usr/bin/env bash
# Runs a Spark job of this project on this machine, as spark-submit would on a cluster but without a Spark
# installation: Spark's jars come from Maven (spark/pom.xml), the master is given with --master local[N].
#   spark/run-local.sh featurize --master 'local[2]' --input DIR --output DIR ...   (see Featurize --help)
# The class path is built once (spark/target/local-classpath.txt) and again when a source file is newer.
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=spark/target/local-classpath.txt
if [ ! -s "$cp_file" ] || [ -n "$(find lib/src/main spark/src/main spark/pom.xml lib/pom.xml -newer "$cp_file" -print -quit)" ]; then
    echo "building the Spark module (first run: Maven downloads Spark, about 300 MB)..." >&2
    mkdir -p "$(dirname "$cp_file")"
    mvn -B -q -ntp -f pom.xml -pl spark -am compile dependency:build-classpath \
        -Dmdep.outputFile=target/local-classpath.txt -Dmdep.includeScope=test >"${cp_file%.txt}.log" 2>&1 \
        || { cat "${cp_file%.txt}.log" >&2; echo "$0: building the module failed (log above)" >&2; exit 1; }
    touch "$cp_file"   # Maven leaves an unchanged class path file as it was: without this, every run rebuilt
fi
OPENS=$(sed -n 's:.*<spark.java17.options>\(.*\)</spark.java17.options>.*:\1:p' spark/pom.xml)
# shellcheck disable=SC2086
exec env OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" java -Xmx3g $OPENS \
    -Dlog4j2.configurationFile="$PWD/spark/conf/log4j2-local.properties" \
    -cp "spark/target/classes:lib/target/classes:$(cat "$cp_file")" io.transferlab.spark.Featurize "$@"

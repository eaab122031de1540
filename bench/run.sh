#!/usr/bin/env bash
# Benchmark: the project (DL4J through this library) against a peer (PyTorch, Debian's python3-torch) on the same
# machine, in the same run, rounds interleaved (the machine may be shared: compare ratios, not absolute figures).
#
#   bench/run.sh [--quick] [--only vgg,inception,mobilenet,head,cnn,pipeline]
#
# Workloads (batch 20, random weights, fixed random inputs):
#   vgg        VGG16 conv base forward, 150x150 (also a plain DL4J NHWC VGG16 as a reference)
#   inception  InceptionV3 up to mixed7, 150x150
#   mobilenet  MobileNet alpha 1.0, 224x224
#   head       one epoch of Dense(256,relu)+Dropout(0.5)+Dense(1,sigmoid), 2000 x 8192 features, RMSprop
#   cnn        notebook 07's small CNN trained from scratch, one pass over 320 images 150x150, batch 32, RMSprop
#   pipeline   decode+resize JPEGs of cats_and_dogs_filtered/train to 150x150 (ImageFolder vs PIL)
# The project's DL4J-only path is timed too ("dl4j" rows: the model's DL4J network for the forward workloads, in
# its own process, and DL4J's own training step for the head), so the gain of each fast path shows.
# Each workload starts fresh worker processes (one per side), so peak resident memory (VmHWM) is per workload.
#
# The peer should run on OpenBLAS (apt-get install libopenblas0-pthread): the script says which BLAS it found.
# Environment: TL_PEAK_GFLOPS (else measured with bench/peak.c, else 510), TL_THREADS (peer threads; default all
# cores, as ND4J uses), TL_BENCH_BUILD (build folder), TL_DATA (train folder), JAVA (java binary),
# TL_JAVA_OPTS (default -Xmx2g), PEER_PY (default /usr/bin/python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
ONLY="vgg,inception,mobilenet,head,cnn,pipeline"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only) ONLY="$2"; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ $QUICK == 1 ]]; then WARMUP=1; ROUNDS=3; PIPE_IMAGES=200; else WARMUP=1; ROUNDS=5; PIPE_IMAGES=400; fi

BUILD="${TL_BENCH_BUILD:-${TMPDIR:-/tmp}/transferlab-bench-$(id -u)}"
DATA="${TL_DATA:-$ROOT/../shared/data/cats_and_dogs_filtered/train}"
[[ -d "$DATA" ]] || DATA="$ROOT/data/cats_and_dogs_filtered/train"
JAVA="${JAVA:-java}"
JAVA_OPTS="${TL_JAVA_OPTS:--Xmx2g}"
PEER_PY="${PEER_PY:-/usr/bin/python3}"
mkdir -p "$BUILD"
LOG="$BUILD/bench.log"
RESULTS="$BUILD/results.tsv"
: > "$LOG"
: > "$RESULTS"
echo "build folder $BUILD (worker logs: $LOG)"

# ---- build: our own copy of the classes (lib/target may be rebuilt by a concurrent mvn) ----
echo "compiling..."
( cd "$ROOT/lib" && { mvn -q -B -o dependency:build-classpath -Dmdep.outputFile="$BUILD/cp.txt" >>"$LOG" 2>&1 \
    || mvn -q -B dependency:build-classpath -Dmdep.outputFile="$BUILD/cp.txt" >>"$LOG" 2>&1; } )
rm -rf "$BUILD/classes" && mkdir -p "$BUILD/classes"
find "$ROOT/lib/src/main/java" -name '*.java' > "$BUILD/sources.txt"
echo "$ROOT/lib/src/test/java/io/transferlab/bench/Benchmark.java" >> "$BUILD/sources.txt"
javac -nowarn -encoding UTF-8 --release 17 -d "$BUILD/classes" -cp "$(cat "$BUILD/cp.txt")" @"$BUILD/sources.txt" \
    2>&1 | grep -v -E '^Note:|warning' >&2 || true
[[ -f "$BUILD/classes/io/transferlab/bench/Benchmark.class" ]] || { echo "compilation failed" >&2; exit 1; }
if [[ -d "$ROOT/lib/src/main/resources" ]]; then cp -r "$ROOT/lib/src/main/resources/." "$BUILD/classes/"; fi
CP="$BUILD/classes:$(cat "$BUILD/cp.txt")"

# ---- machine peak ----
NCPU=$(nproc)
PEAK="${TL_PEAK_GFLOPS:-}"
PEAK_HOW="from TL_PEAK_GFLOPS"
if [[ -z "$PEAK" ]]; then
    PEAK=510; PEAK_HOW="nominal (no gcc or no AVX-512)"
    if command -v gcc >/dev/null && grep -q avx512f /proc/cpuinfo \
        && gcc -O2 -mavx512f -mfma -fopenmp "$ROOT/bench/peak.c" -o "$BUILD/peak" 2>>"$LOG"; then
        # one thread per core measured alone, times the cores: robust when another job shares the machine
        one=$(OMP_NUM_THREADS=1 "$BUILD/peak" 200000000)
        PEAK=$(awk -v a="$one" -v n="$NCPU" 'BEGIN{printf "%.0f", a*n}')
        PEAK_HOW="measured: ${one} GFLOP/s on one core x ${NCPU} cores"
    fi
fi
echo "peak $PEAK GFLOP/s ($PEAK_HOW)"
PEER_OK=1
if ! "$PEER_PY" -c 'import torch' 2>/dev/null; then
    PEER_OK=0
    echo "NOTE: $PEER_PY has no torch (apt-get install -y python3-torch): peer rows are skipped"
fi
if [[ $PEER_OK == 1 ]]; then
    # Debian's torch takes whatever libblas.so.3 the system points at; the reference BLAS (libblas3) is many times
    # slower than OpenBLAS on the dense head, which would make the peer look slower than it is.
    PEER_BLAS=$("$PEER_PY" -c 'import os, torch
torch.mm(torch.ones(64, 64), torch.ones(64, 64))
libs = [os.path.realpath(l.split()[-1]) for l in open("/proc/self/maps") if "blas" in l.split()[-1]]
print(libs[0] if libs else "none found")' 2>/dev/null || echo unknown)
    echo "peer: $("$PEER_PY" -c 'import torch; print("PyTorch", torch.__version__)' 2>/dev/null), BLAS $PEER_BLAS"
    if [[ "$PEER_BLAS" == */blas/libblas* ]]; then
        echo "WARNING: the peer runs on the reference BLAS, which handicaps it on the dense head;"
        echo "         apt-get install libopenblas0-pthread gives it OpenBLAS (as a user of PyTorch would have)"
    fi
fi

# ---- workers: a process answering lines that start with '@@' ----
declare -A WIN WOUT WPID WVARS
REPLY_LINE=""
start_worker() {   # name, command...
    local name="$1"; shift
    local fin="$BUILD/$name.in" fout="$BUILD/$name.out"
    rm -f "$fin" "$fout"; mkfifo "$fin" "$fout"
    "$@" <"$fin" >"$fout" 2>>"$LOG" &
    WPID[$name]=$!
    local i o
    exec {i}>"$fin"
    exec {o}<"$fout"
    WIN[$name]=$i; WOUT[$name]=$o
    read_reply "$name"
}
read_reply() {
    local name="$1" line
    while true; do
        if ! IFS= read -r -t 900 -u "${WOUT[$name]}" line; then
            echo "worker $name stopped or timed out (see $LOG)" >&2; REPLY_LINE="@@ dead"; return 1
        fi
        if [[ "$line" == "@@ "* ]]; then REPLY_LINE="${line#@@ }"; return 0; fi
        echo "[$name] $line" >> "$LOG"
    done
}
ask() {   # name, command
    echo "$2" >&"${WIN[$1]}"
    read_reply "$1"
}
stop_worker() {
    local name="$1"
    ask "$name" mem || true
    local mem="${REPLY_LINE#ok }"
    [[ "$REPLY_LINE" == ok* ]] && printf '%s\tmem\t%s\n' "$name" "$mem" >> "$RESULTS"
    ask "$name" quit || true
    local i="${WIN[$name]}" o="${WOUT[$name]}"
    exec {i}>&- {o}<&-
    wait "${WPID[$name]}" 2>/dev/null || true
    rm -f "$BUILD/$name.in" "$BUILD/$name.out"
}
trap 'for p in "${WPID[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done' EXIT

java_worker() {   # name, workload args...
    local name="$1"; shift
    start_worker "$name" "$JAVA" $JAVA_OPTS -cp "$CP" io.transferlab.bench.Benchmark "$@"
    if [[ "$REPLY_LINE" == ok\ ready\ * ]]; then
        WVARS[$name]="$(echo "${REPLY_LINE#ok ready }" | tr ',' ' ')"
    else
        WVARS[$name]="ours"
    fi
}
peer_worker() {   # name, workload args...
    local name="$1"; shift
    [[ $PEER_OK == 1 || "$1" == pipeline ]] || return 0
    start_worker "$name" "$PEER_PY" "$ROOT/bench/peer_torch.py" "$@"
    if [[ "$REPLY_LINE" == ok\ ready* ]]; then
        WVARS[$name]="$(echo "${REPLY_LINE#ok ready }" | tr ',' ' ')"
    else
        echo "peer $name: ${REPLY_LINE}" | tee -a "$RESULTS.notes"
        WVARS[$name]=""
    fi
}

run_workload() {   # workload, worker names...
    local wl="$1"; shift
    local total=$((WARMUP + ROUNDS)) r w v
    for ((r = 1; r <= total; r++)); do
        for w in "$@"; do
            for v in ${WVARS[$w]}; do
                local cmd="round"; [[ "$v" != "-" ]] && cmd="round $v"
                ask "$w" "$cmd" || return 1
                local _ok secs items
                read -r _ok secs items <<< "$REPLY_LINE"
                if ((r > WARMUP)); then
                    printf '%s\t%s\t%s\t%s\t%s\n' "$w" "${v/-/ours}" "$r" "$secs" "$items" >> "$RESULTS"
                fi
                printf '  %-16s %-14s round %d%s: %6.2f items/s\n' "$w" "${v/-/ours}" "$r" \
                    "$( ((r <= WARMUP)) && echo ' (warm-up)')" "$(awk -v s="$secs" -v n="$items" 'BEGIN{print n/s}')"
            done
        done
    done
    for w in "$@"; do stop_worker "$w"; done
}

: > "$RESULTS.notes"
START=$(date +%s)
for wl in ${ONLY//,/ }; do
    echo "== $wl"
    case "$wl" in
        vgg)
            java_worker vgg vgg; java_worker vgg-dl4j vgg-dl4j; java_worker vgg-plain vgg-plain
            peer_worker torch-vgg vgg
            run_workload vgg vgg vgg-dl4j vgg-plain ${WVARS[torch-vgg]:+torch-vgg} ;;
        inception)
            java_worker inception inception; java_worker inception-dl4j inception-dl4j
            peer_worker torch-inception inception
            run_workload inception inception inception-dl4j ${WVARS[torch-inception]:+torch-inception} ;;
        mobilenet)
            java_worker mobilenet mobilenet; java_worker mobilenet-dl4j mobilenet-dl4j
            peer_worker torch-mobilenet mobilenet
            run_workload mobilenet mobilenet mobilenet-dl4j ${WVARS[torch-mobilenet]:+torch-mobilenet} ;;
        head)
            java_worker head head; peer_worker torch-head head
            run_workload head head ${WVARS[torch-head]:+torch-head} ;;
        cnn)
            java_worker cnn cnn; peer_worker torch-cnn cnn
            run_workload cnn cnn ${WVARS[torch-cnn]:+torch-cnn} ;;
        pipeline)
            java_worker pipeline pipeline "$DATA" "$PIPE_IMAGES"; peer_worker pil-pipeline pipeline "$DATA" "$PIPE_IMAGES"
            run_workload pipeline pipeline ${WVARS[pil-pipeline]:+pil-pipeline} ;;
        *) echo "unknown workload $wl" >&2; exit 2 ;;
    esac
done
echo "total $(( $(date +%s) - START )) s of benchmarking"

# ---- summary: medians, ratios, fraction of peak, memory ----
echo
awk -F'\t' -v peak="$PEAK" -v rounds="$ROUNDS" '
function median(key,    n, i, j, t, a) {
    n = cnt[key]; for (i = 1; i <= n; i++) a[i] = val[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$2 == "mem" { mem[$1] = $3; next }
{ key = $1 SUBSEP $2; if (!(key in cnt)) order[++nk] = key; cnt[key]++; val[key, cnt[key]] = $5 / $4; items[key] = $5 }
END {
    gf["vgg"] = 13.24; gf["vgg-plain"] = 13.24; gf["torch-vgg"] = 13.24; gf["vgg-dl4j"] = 13.24
    gf["inception-dl4j"] = 1.838; gf["mobilenet-dl4j"] = 1.135
    wl["vgg-dl4j"] = "vgg"; wl["inception-dl4j"] = "inception"; wl["mobilenet-dl4j"] = "mobilenet"
    gf["inception"] = 1.838; gf["torch-inception"] = 1.838; gf["mobilenet"] = 1.135; gf["torch-mobilenet"] = 1.135
    wl["vgg"] = "vgg"; wl["vgg-plain"] = "vgg"; wl["torch-vgg"] = "vgg"; wl["inception"] = "inception"
    wl["torch-inception"] = "inception"; wl["mobilenet"] = "mobilenet"; wl["torch-mobilenet"] = "mobilenet"
    wl["head"] = "head"; wl["torch-head"] = "head"; wl["cnn"] = "cnn"; wl["torch-cnn"] = "cnn"; wl["pipeline"] = "pipeline"; wl["pil-pipeline"] = "pipeline"
    for (k = 1; k <= nk; k++) { split(order[k], p, SUBSEP); med[order[k]] = median(order[k])
        w = wl[p[1]]; if (p[1] == w && p[2] == "ours") ours[w] = med[order[k]]
        if (p[1] ~ /^(torch|pil)-/) { if (med[order[k]] > best[w]) { best[w] = med[order[k]]; bestv[w] = p[2] }
                                      if (p[2] == "eager" || p[2] ~ /^pil_1/ || p[2] == "loop") base[w] = med[order[k]] } }
    printf "%-16s %-14s %12s %10s %9s %9s %9s %9s\n", "worker", "variant", "median it/s", "s/round", "vs peer*", "vs eager", "of peak", "VmHWM MB"
    for (k = 1; k <= nk; k++) { split(order[k], p, SUBSEP); m = med[order[k]]; w = wl[p[1]]
        r1 = (best[w] > 0) ? sprintf("%.2fx", m / best[w]) : "-"
        r2 = (base[w] > 0) ? sprintf("%.2fx", m / base[w]) : "-"
        fp = (p[1] in gf) ? sprintf("%.1f%%", 100 * m * gf[p[1]] / peak) : "-"
        printf "%-16s %-14s %12.2f %10.3f %9s %9s %9s %9s\n", p[1], p[2], m, items[order[k]] / m, r1, r2, fp,
            (p[1] in mem) ? sprintf("%.0f", mem[p[1]] / 1024) : "-" }
    print ""
    print "* vs peer = this row / the best peer variant of the workload (" rounds " timed rounds, medians)."
    print ""
    print "Goals:"
    if ("vgg" in ours && best["vgg"] > 0) printf "  VGG16 >= 1.15x PyTorch best (%s): %.2fx  %s\n", bestv["vgg"], ours["vgg"] / best["vgg"], (ours["vgg"] / best["vgg"] >= 1.15) ? "MET" : "MISSED"
    if ("inception" in ours && base["inception"] > 0) printf "  InceptionV3-to-mixed7 >= 1.0x PyTorch eager: %.2fx  %s\n", ours["inception"] / base["inception"], (ours["inception"] >= base["inception"]) ? "MET" : "MISSED"
    if ("mobilenet" in ours && base["mobilenet"] > 0) printf "  MobileNet >= 1.0x PyTorch eager: %.2fx  %s\n", ours["mobilenet"] / base["mobilenet"], (ours["mobilenet"] >= base["mobilenet"]) ? "MET" : "MISSED"
    if ("head" in ours && best["head"] > 0) printf "  dense head epoch time <= 1.0x PyTorch (%s): %.2fx the time  %s\n", bestv["head"], best["head"] / ours["head"], (ours["head"] >= best["head"]) ? "MET" : "MISSED"
    if ("pipeline" in ours && "vgg" in ours) printf "  input pipeline >= 3x VGG16 rate: %.1f img/s = %.1fx of %.1f  %s\n", ours["pipeline"], ours["pipeline"] / ours["vgg"], ours["vgg"], (ours["pipeline"] >= 3 * ours["vgg"]) ? "MET" : "MISSED"
    if ("vgg" in mem) printf "  VGG16 peak memory <= 2 GB: %.0f MB  %s\n", mem["vgg"] / 1024, (mem["vgg"] <= 2 * 1024 * 1024) ? "MET" : "MISSED"
}' "$RESULTS"
[[ -s "$RESULTS.notes" ]] && { echo; cat "$RESULTS.notes"; }
echo
echo "raw rounds: $RESULTS"

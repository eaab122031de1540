#!/usr/bin/env bash
# Benchmark: the project (this library, as the notebooks call it) against a peer (PyTorch, Debian's python3-torch)
# on the same machine, each side in its own process and ONE SIDE AT A TIME (the project's rounds, then the peer's:
# no interleaving that lets one side's spinning threads slow the other).
#
#   bench/run.sh [--quick] [--shared] [--only WORKLOAD,...]
#
# Default workloads: the notebooks' paths, through the same public calls the notebooks make:
#   head03             notebook 03's head: ONE model.fit of several epochs WITH validation data, 2000 train + 1000
#                      validation features (4,4,512) flattened, Dense(256,relu), Dropout(0.5), Dense(1,sigmoid),
#                      RMSprop(2e-5), batch 20 (figures in s/epoch)
#   head02             notebook 02's head on InceptionV3 mixed7 features (7,7,768): Flatten, Dense(1024,relu),
#                      Dropout(0.2), Dense(1,sigmoid), RMSprop(1e-4), batch 20, 38.5M parameters (s/epoch)
#   extract-mobilenet  Features.extract over JPEG files of cats_and_dogs_filtered/train (decode included),
#                      MobileNet 0.25 at 224 with its real weights (TL_SHARED/weights), GAP, batch 32 (notebook 07)
#   extract-vgg        the same with VGG16's conv base at 150x150, batch 20 (notebook 03; random weights)
#   finetune-vgg       fit of VGG16 with block5 open + notebook 03's head, 150x150, batch 20, RMSprop (random)
#   finetune-mobilenet fit of MobileNet 1.0 with conv_dw_13 open + GAP/Dropout/Dense head, 224, batch 32, Adam
#   pipeline-1core     decode + resize to 150x150 (nearest) of cats_and_dogs_filtered JPEGs, ImageFolder's batches
#                      against PIL, both sides pinned to one core (taskset -c 0): the per-core rate of the decoders
# Older workloads, selectable with --only: vgg, inception, mobilenet (Model.predict on random batches), head (one
# epoch without validation), cnn (notebook 07's small CNN), pipeline (decode+resize only, all cores).
#
# bfloat16: extract-*, finetune-* and vgg also time the project under Keras's mixed_bfloat16 policy (variant "bf16":
# MixedPrecision.set("mixed_bfloat16") before each round, "float32" after; a model of its own) and the peer under
# torch.autocast("cpu", dtype=torch.bfloat16) (variants "autocast_bf16_<its float32 mode>"). The summary compares
# the precisions apart: "ours" against the peer's best variant that is not bf16, "bf16" against its best autocast
# one (rows "WORKLOAD" and "WORKLOAD [bf16]"). Where the CPU has neither AVX512-BF16 nor AMX-BF16 (or torch has no
# CPU autocast) those variants are left out with a note; TL_BENCH_BF16=0 leaves them out everywhere (each worker's
# peak memory, VmHWM, otherwise counts the models of both precisions).
#
# --shared runs every workload twice, quiet and then with one busy process beside it (`yes > /dev/null`, one core),
# and reports the slowdown quiet/shared per workload. The report names the CPU, the machine's load before and after,
# and which BLAS / oneDNN ISA each side used (ONEDNN_VERBOSE for the project's plan, torch.__config__ and MKLDNN's
# verbose line for the peer).
#
# Environment: TL_PEAK_GFLOPS (else measured with bench/peak.c, else 510), TL_THREADS (peer threads for the older
# workloads; default all cores), TL_BENCH_BUILD (build folder), TL_DATA (train folder), TL_SHARED (the shared folder
# with weights/, default ../shared), JAVA (java binary), TL_JAVA_OPTS (default -Xmx3g), PEER_PY (default
# /usr/bin/python3), OMP_WAIT_POLICY (both sides; default passive, as the project's launchers set it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
SHARED=0
ONLY="head03,head02,extract-mobilenet,extract-vgg,finetune-vgg,finetune-mobilenet,pipeline-1core"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --shared) SHARED=1 ;;
        --only) ONLY="$2"; shift ;;
        -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
# per round: head epochs (one fit call), JPEG images extracted, images fine-tuned (VGG16, MobileNet)
if [[ $QUICK == 1 ]]; then
    WARMUP=1; ROUNDS=3; PIPE_IMAGES=200; EPOCHS=2; EXTRACT_MOBILENET=256; EXTRACT_VGG=100; FT_VGG=60; FT_MOBILENET=96
else
    WARMUP=1; ROUNDS=5; PIPE_IMAGES=400; EPOCHS=4; EXTRACT_MOBILENET=600; EXTRACT_VGG=200; FT_VGG=100; FT_MOBILENET=160
fi
ROUNDS="${TL_BENCH_ROUNDS:-$ROUNDS}"; EPOCHS="${TL_BENCH_EPOCHS:-$EPOCHS}"   # for a loaded machine

BUILD="${TL_BENCH_BUILD:-${TMPDIR:-/tmp}/transferlab-bench-$(id -u)}"
JAVA="${JAVA:-java}"
JAVA_OPTS="${TL_JAVA_OPTS:--Xmx3g}"
export TL_SHARED="${TL_SHARED:-$ROOT/../shared}"
DATA="${TL_DATA:-$TL_SHARED/data/cats_and_dogs_filtered/train}"
[[ -d "$DATA" ]] || DATA="$ROOT/data/cats_and_dogs_filtered/train"
PEER_PY="${PEER_PY:-/usr/bin/python3}"
# both sides' OpenMP threads wait as the project's launchers make them (kernel, scripts): passive unless set
WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
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
        # "@@ note TEXT": a worker's remark for the report (a variant it leaves out, and why), not an answer
        if [[ "$line" == "@@ note "* ]]; then echo "$name: ${line#@@ note }" | tee -a "$RESULTS.notes"; continue; fi
        if [[ "$line" == "@@ "* ]]; then REPLY_LINE="${line#@@ }"; return 0; fi
        echo "[$name] $line" >> "$LOG"
    done
}
ask() {   # name, command
    echo "$2" >&"${WIN[$1]}"
    read_reply "$1"
}
PASS=quiet
java_worker() {   # name, workload args...
    local name="$1"; shift
    start_worker "$name" ${PIN:-} env OMP_WAIT_POLICY="$WAIT_POLICY" "$JAVA" $JAVA_OPTS -cp "$CP" io.transferlab.bench.Benchmark "$@" || true
    if [[ "$REPLY_LINE" == ok\ ready\ * ]]; then
        WVARS[$name]="$(echo "${REPLY_LINE#ok ready }" | tr ',' ' ')"
    else
        echo "project $name: ${REPLY_LINE}" | tee -a "$RESULTS.notes"
        WVARS[$name]=""
    fi
}
peer_worker() {   # name, workload args...
    local name="$1"; shift
    WVARS[$name]=""
    [[ $PEER_OK == 1 || "$1" == pipeline ]] || return 0
    start_worker "$name" ${PIN:-} env OMP_WAIT_POLICY="$WAIT_POLICY" "$PEER_PY" "$ROOT/bench/peer_torch.py" "$@" || true
    if [[ "$REPLY_LINE" == ok\ ready* ]]; then
        WVARS[$name]="$(echo "${REPLY_LINE#ok ready }" | tr ',' ' ')"
    else
        echo "peer $name: ${REPLY_LINE}" | tee -a "$RESULTS.notes"
    fi
}

# One worker's rounds, all of them, then the worker stops: the next worker (the other side) starts on a machine
# where this one no longer runs. Within a worker, the variants alternate round by round.
run_worker() {   # workload, side (project|peer), worker name
    local wl="$1" side="$2" w="$3"
    local total=$((WARMUP + ROUNDS)) r v
    [[ -n "${WVARS[$w]:-}" ]] || return 0
    for ((r = 1; r <= total; r++)); do
        for v in ${WVARS[$w]}; do
            local cmd="round"; [[ "$v" != "-" ]] && cmd="round $v"
            ask "$w" "$cmd" || return 1
            local _ok secs items
            read -r _ok secs items <<< "$REPLY_LINE"
            if ((r > WARMUP)); then
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$PASS" "$wl" "$side" "$w" "$v" "$r" "$secs" "$items" >> "$RESULTS"
            fi
            printf '  %-6s %-22s %-28s round %d%s: %8.3f s, %s items\n' "$PASS" "$w" "$v" "$r" \
                "$( ((r <= WARMUP)) && echo ' (warm-up)')" "$secs" "$items"
        done
    done
    ask "$w" mem || true
    [[ "$REPLY_LINE" == ok* ]] && printf '%s\t%s\t%s\t%s\tmem\t0\t%s\t0\n' "$PASS" "$wl" "$side" "$w" "${REPLY_LINE#ok }" >> "$RESULTS"
    ask "$w" quit || true
    local i="${WIN[$w]}" o="${WOUT[$w]}"
    exec {i}>&- {o}<&-
    wait "${WPID[$w]}" 2>/dev/null || true
    unset "WPID[$w]"
    rm -f "$BUILD/$w.in" "$BUILD/$w.out"
}
# a worker that dies (see the log) leaves its workload without that side's rows; the run goes on
project() { java_worker "$@"; run_worker "$WL" project "$1" || echo "project $1: stopped early" | tee -a "$RESULTS.notes"; }
peer() { peer_worker "$@"; run_worker "$WL" peer "$1" || echo "peer $1: stopped early" | tee -a "$RESULTS.notes"; }

run_all() {
    local wl
    for wl in ${ONLY//,/ }; do
        WL="$wl"
        echo "== $wl ($PASS)"
        case "$wl" in
            head03|head02)
                project "$wl" "$wl" "$EPOCHS"; peer "torch-$wl" "$wl" "$EPOCHS" ;;
            extract-mobilenet)
                project "$wl" "$wl" "$DATA" "$EXTRACT_MOBILENET"; peer "torch-$wl" "$wl" "$DATA" "$EXTRACT_MOBILENET" ;;
            extract-vgg)
                project "$wl" "$wl" "$DATA" "$EXTRACT_VGG"; peer "torch-$wl" "$wl" "$DATA" "$EXTRACT_VGG" ;;
            finetune-vgg)
                project "$wl" "$wl" "$FT_VGG"; peer "torch-$wl" "$wl" "$FT_VGG" ;;
            finetune-mobilenet)
                project "$wl" "$wl" "$FT_MOBILENET"; peer "torch-$wl" "$wl" "$FT_MOBILENET" ;;
            vgg)
                project vgg vgg; project vgg-dl4j vgg-dl4j; project vgg-plain vgg-plain; peer torch-vgg vgg ;;
            inception)
                project inception inception; project inception-dl4j inception-dl4j; peer torch-inception inception ;;
            mobilenet)
                project mobilenet mobilenet; project mobilenet-dl4j mobilenet-dl4j; peer torch-mobilenet mobilenet ;;
            head|cnn)
                project "$wl" "$wl"; peer "torch-$wl" "$wl" ;;
            pipeline)
                project pipeline pipeline "$DATA" "$PIPE_IMAGES"; peer pil-pipeline pipeline "$DATA" "$PIPE_IMAGES" ;;
            pipeline-1core)   # PIN: the worker's command runs under it (a function's prefix assignment lasts its call)
                if command -v taskset >/dev/null; then
                    PIN="taskset -c 0" project pipeline-1core pipeline "$DATA" "$PIPE_IMAGES"
                    PIN="taskset -c 0" peer pil-pipeline-1core pipeline "$DATA" "$PIPE_IMAGES"
                else
                    echo "pipeline-1core: no taskset (util-linux) here, left out" | tee -a "$RESULTS.notes"
                fi ;;
            *) echo "unknown workload $wl" >&2; exit 2 ;;
        esac
    done
}

# ---- which BLAS and oneDNN ISA each side uses ----
# the library's version and the ISA it detected (one line per oneDNN copy in the process), then the kernels the probe's
# primitives ran on (brgconv:avx512_core, jit_wino_4x3:avx512_core...)
isa_of() {
    { grep -o -E '(onednn|dnnl|mkldnn)_verbose,info,(oneDNN|DNNL|MKLDNN) v[0-9.]+' "$1" | sed -E 's/.*,info,//'
      grep -o -E '(onednn|dnnl|mkldnn)_verbose,info,cpu,isa:.*' "$1" | sed -E 's/.*isa://'
      echo "kernels $(grep -E '_verbose,exec,cpu,' "$1" | cut -d, -f5 | sort -u | paste -sd ' ')"; } \
        | awk '!seen[$0]++' | paste -sd ';' | sed 's/;/; /g' || true
}
OMP_WAIT_POLICY="$WAIT_POLICY" ONEDNN_VERBOSE=1 DNNL_VERBOSE=1 "$JAVA" $JAVA_OPTS -cp "$CP" io.transferlab.bench.Benchmark isa > "$BUILD/isa-project.txt" 2>&1 || true
PROJ_INFO=$(grep -E '^@@ ok ' "$BUILD/isa-project.txt" | sed 's/^@@ ok //' || true)
PROJ_ISA=$(isa_of "$BUILD/isa-project.txt")
PEER_INFO=""; PEER_ISA=""
if [[ $PEER_OK == 1 ]]; then
    ONEDNN_VERBOSE=1 DNNL_VERBOSE=1 "$PEER_PY" "$ROOT/bench/peer_torch.py" isa > "$BUILD/isa-peer.txt" 2>&1 || true
    PEER_INFO=$(grep -E '^@@ ok ' "$BUILD/isa-peer.txt" | sed 's/^@@ ok //' || true)
    PEER_ISA=$(isa_of "$BUILD/isa-peer.txt")
fi
CPU_NAME=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
load_now() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg); busiest: $(ps -eo pcpu=,comm= --sort=-pcpu | head -4 | awk '{printf "%s %s%%; ", $2, $1}')"; }
LOAD_BEFORE=$(load_now)
echo "CPU: $CPU_NAME, $NCPU cores; OMP_WAIT_POLICY=$WAIT_POLICY for both sides"
echo "before: $LOAD_BEFORE"
echo "project: ${PROJ_INFO:-?}"
echo "project oneDNN ISA: ${PROJ_ISA:-no verbose line}"
echo "peer: ${PEER_INFO:-none}"
echo "peer oneDNN ISA: ${PEER_ISA:-no verbose line}"

: > "$RESULTS.notes"
START=$(date +%s)
SPINNER=""
stop_spinner() { if [[ -n "$SPINNER" ]]; then kill "$SPINNER" 2>/dev/null || true; wait "$SPINNER" 2>/dev/null || true; SPINNER=""; fi; }
trap 'stop_spinner; for p in "${WPID[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done' EXIT
PASS=quiet; run_all
if [[ $SHARED == 1 ]]; then
    yes > /dev/null &
    SPINNER=$!
    echo "shared pass: busy process $SPINNER (yes > /dev/null) beside every worker"
    PASS=shared; run_all
    stop_spinner
fi
LOAD_AFTER=$(load_now)
echo "total $(( $(date +%s) - START )) s of benchmarking"

# ---- summary: medians, min/max, ratio project/peer, slowdown quiet/shared, memory ----
echo
echo "CPU: $CPU_NAME, $NCPU cores; peak $PEAK GFLOP/s ($PEAK_HOW); OMP_WAIT_POLICY=$WAIT_POLICY for both sides"
echo "machine load before: $LOAD_BEFORE"
echo "machine load after:  $LOAD_AFTER"
echo "project: ${PROJ_INFO:-?}; oneDNN ${PROJ_ISA:-(no verbose line)}"
echo "peer:    ${PEER_INFO:-none}; oneDNN ${PEER_ISA:-(no verbose line)}"
echo
awk -F'\t' -v rounds="$ROUNDS" -f "$ROOT/bench/summary.awk" "$RESULTS"
[[ -s "$RESULTS.notes" ]] && { echo; cat "$RESULTS.notes"; }
echo
echo "raw rounds: $RESULTS (pass, workload, side, worker, variant, round, seconds, items)"

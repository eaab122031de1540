# bench/run.sh's summary of results.tsv (pass, workload, side, worker, variant, round, seconds, items):
# medians, min/max, the ratio project/peer and the slowdown quiet/shared per workload. Usable on its own on a
# partial results file: awk -F'\t' -v rounds=N -f bench/summary.awk results.tsv
# Two precisions, compared separately: a variant whose name contains "bf16" (the project's "bf16", the peer's
# "autocast_bf16...") is a bfloat16 one. The project's float32 ("ours") is compared with the peer's best variant
# that is not bf16, its "bf16" with the peer's best bf16 variant (final table: rows "WORKLOAD" and "WORKLOAD [bf16]").
function sortv(key, a,    n, i, j, t) {
    n = cnt[key]; for (i = 1; i <= n; i++) a[i] = val[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n
}
function median(key,    n, a) { n = sortv(key, a); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function lo(key,    n, a) { n = sortv(key, a); return a[1] }
function hi(key,    n, a) { n = sortv(key, a); return a[n] }
# per item: seconds per epoch for the heads (items = epochs), items per second for the rest
function isHead(wl) { return wl ~ /^head0/ }
function show(wl, rate) { return isHead(wl) ? sprintf("%.3f s/ep", 1 / rate) : sprintf("%.2f /s", rate) }
function isBf16(variant) { return variant ~ /bf16/ }
# the project's rate against the peer's for one workload: for the heads the time ratio, else the rate ratio
function ratio(wl, proj, peer) { return isHead(wl) ? sprintf("%.2fx time", peer / proj) : sprintf("%.2fx", proj / peer) }
$5 == "mem" { mem[$1, $4] = $7; next }
{ key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4 SUBSEP $5
  if (!(key in cnt)) order[++nk] = key
  cnt[key]++; val[key, cnt[key]] = $8 / $7 }
END {
    for (k = 1; k <= nk; k++) {
        split(order[k], p, SUBSEP); m = median(order[k]); med[order[k]] = m
        wp = p[1] SUBSEP p[2]
        if (p[3] == "peer" && !isBf16(p[5]) && m > best[wp]) { best[wp] = m; bestv[wp] = p[5] }
        if (p[3] == "peer" && isBf16(p[5]) && m > bestbf[wp]) { bestbf[wp] = m; bestbfv[wp] = p[5] }
        if (p[3] == "project" && p[4] == p[2] && (p[5] == "ours" || p[5] == "-")) ours[wp] = m
        if (p[3] == "project" && p[4] == p[2] && p[5] == "bf16") oursbf[wp] = m
    }
    printf "%-7s %-19s %-8s %-22s %-28s %13s %13s %13s %11s %9s\n", "pass", "workload", "side", "worker", "variant", \
        "median", "min", "max", "vs peer*", "VmHWM MB"
    for (k = 1; k <= nk; k++) {
        split(order[k], p, SUBSEP); m = med[order[k]]; wp = p[1] SUBSEP p[2]
        # ("in" first: reading bestbf[wp] of a missing key would create it, and the table below would show it)
        if (isBf16(p[5])) r = ((wp in bestbf) && bestbf[wp] > 0) ? ratio(p[2], m, bestbf[wp]) : "-"
        else r = ((wp in best) && best[wp] > 0) ? ratio(p[2], m, best[wp]) : "-"
        # min/max of the figure shown: for s/epoch the slowest round is the largest time
        a = show(p[2], lo(order[k])); b = show(p[2], hi(order[k]))
        if (isHead(p[2])) { t = a; a = b; b = t }
        printf "%-7s %-19s %-8s %-22s %-28s %13s %13s %13s %11s %9s\n", p[1], p[2], p[3], p[4], p[5], show(p[2], m), \
            a, b, r, ((p[1] SUBSEP p[4]) in mem) ? sprintf("%.0f", mem[p[1], p[4]] / 1024) : "-"
    }
    print ""
    print "* vs peer: the row against the best peer variant of the same pass, workload and precision (" rounds " timed"
    print "  rounds, medians; bf16 rows against the peer's best autocast_bf16 variant, the others against its best"
    print "  variant that is not bf16): for the heads the time ratio row/peer (below 1 = faster than the peer), else"
    print "  the rate ratio (above 1 = faster)."
    print ""
    printf "%-26s %-7s %13s %13s %29s %15s\n", "workload", "pass", "project", "peer best", "peer variant", "project/peer"
    for (wp in ours) { split(wp, p, SUBSEP); wls[p[2]] = 1; passes[p[1]] = 1 }
    for (wp in best) { split(wp, p, SUBSEP); wls[p[2]] = 1; passes[p[1]] = 1 }
    for (wp in oursbf) { split(wp, p, SUBSEP); passes[p[1]] = 1 }
    for (wp in bestbf) { split(wp, p, SUBSEP); passes[p[1]] = 1 }
    n = 0; for (k = 1; k <= nk; k++) { split(order[k], p, SUBSEP); if (!(p[2] in seen)) { seen[p[2]] = 1; wlo[++n] = p[2] } }
    for (i = 1; i <= n; i++) for (ps = 1; ps <= 2; ps++) {
        pass = (ps == 1) ? "quiet" : "shared"; wp = pass SUBSEP wlo[i]
        if ((wp in ours) || (wp in best)) {
            o = (wp in ours) ? show(wlo[i], ours[wp]) : "-"; b = (wp in best) ? show(wlo[i], best[wp]) : "-"
            r = ((wp in ours) && (wp in best)) ? ratio(wlo[i], ours[wp], best[wp]) : "-"
            printf "%-26s %-7s %13s %13s %29s %15s\n", wlo[i], pass, o, b, (wp in bestv) ? bestv[wp] : "-", r
        }
        if ((wp in oursbf) || (wp in bestbf)) {
            o = (wp in oursbf) ? show(wlo[i], oursbf[wp]) : "-"; b = (wp in bestbf) ? show(wlo[i], bestbf[wp]) : "-"
            r = ((wp in oursbf) && (wp in bestbf)) ? ratio(wlo[i], oursbf[wp], bestbf[wp]) : "-"
            printf "%-26s %-7s %13s %13s %29s %15s\n", wlo[i] " [bf16]", pass, o, b, (wp in bestbfv) ? bestbfv[wp] : "-", r
        }
    }
    if ("shared" in passes) {
        print ""
        print "Slowdown with one busy process beside (quiet rate / shared rate; 2.0 = twice as slow):"
        for (i = 1; i <= n; i++) {
            q = "quiet" SUBSEP wlo[i]; s = "shared" SUBSEP wlo[i]
            so = ((q in ours) && (s in ours) && ours[s] > 0) ? sprintf("%.2f", ours[q] / ours[s]) : "-"
            sb = ((q in best) && (s in best) && best[s] > 0) ? sprintf("%.2f", best[q] / best[s]) : "-"
            printf "  %-26s project %6s   peer best %6s\n", wlo[i], so, sb
            if (!((q in oursbf) || (q in bestbf) || (s in oursbf) || (s in bestbf))) continue
            so = ((q in oursbf) && (s in oursbf) && oursbf[s] > 0) ? sprintf("%.2f", oursbf[q] / oursbf[s]) : "-"
            sb = ((q in bestbf) && (s in bestbf) && bestbf[s] > 0) ? sprintf("%.2f", bestbf[q] / bestbf[s]) : "-"
            printf "  %-26s project %6s   peer best %6s\n", wlo[i] " [bf16]", so, sb
        }
    }
}

#!/bin/sh
# scrape.sh: what a continuous profiler's scrape loop costs a program under
# load (issue 15): Parca's pattern, every endpoint every SCRAPE_S seconds,
# against test/bench/churn, beside the same churn under mprof with no
# server.  Nothing is asserted; the lead takes the figures on a quiet
# machine (make bench-scrape).
#
#   sh test/bench/scrape.sh [build dir]
#
# Environment: ROUNDS (5; make bench runs 1), OPS (churn operations per
# thread, SCRAPE_OPS in make; 2000000000, about a minute under mprof on a
# 2-core VM: Parca's 60 s of scrapes), THREADS (2), SCRAPE_S (1).
#
# Each round runs, in this order: churn under mprof without MPROF_HTTP;
# churn with MPROF_HTTP=127.0.0.1:0 and no client (the setting alone must
# cost the allocation path nothing); churn with MPROF_HTTP and a scrape
# loop of curl on
# heap, allocs, block, mutex, delta_heap, delta_block, delta_mutex (and one
# ?seconds=1 of allocs per loop) for as long as churn runs.  churn times
# its own steady state; the figures are the medians over rounds of the
# ratios idle / unscraped and scraped / unscraped, and the time one scrape
# loop took at worst (every path, the 1 s window included).  Growth: the program's descriptors and the size of
# its mappings (VmSize) and resident set (VmRSS) at the second scrape and
# at the last, so growth in mprof shows as a difference (the churn's own
# memory is flat: a fixed ring of blocks).
set -u
B=${1:-build}
LIB=$(cd "$B" && pwd)/libmprof.so
CHURN=$B/test/bench/churn
ROUNDS=${ROUNDS:-5}
OPS=${OPS:-2000000000}
THREADS=${THREADS:-2}
SCRAPE_S=${SCRAPE_S:-1}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PATHS="heap allocs block mutex delta_heap delta_block delta_mutex"

secs() { sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$1"; }

addr_of() { # pid: the published address, waited for
    i=0
    while [ $i -lt 200 ]; do
        a=$(grep -o "mprof-http:1:pid=$1:addr=[^ ]*" "/proc/$1/maps" 2>/dev/null | head -n 1 | sed 's/.*addr=//')
        [ -n "$a" ] && { echo "$a"; return; }
        sleep 0.05; i=$((i + 1))
    done
}

usage_of() { # pid: fds vmsize_kb vmrss_kb
    fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l)
    vs=$(awk '/^VmSize/ {print $2}' "/proc/$1/status" 2>/dev/null)
    rs=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null)
    echo "$fds ${vs:-0} ${rs:-0}"
}

scrape_loop() { # pid addr: until pid ends; prints usage at the 2nd and last loop
    n=0; worst=0
    while kill -0 "$1" 2>/dev/null; do
        t0=$(date +%s%N)
        for p in $PATHS; do
            curl -s -o /dev/null --max-time 30 "http://$2/debug/pprof/$p"
        done
        curl -s -o /dev/null --max-time 30 "http://$2/debug/pprof/allocs?seconds=1"
        n=$((n + 1))
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ $ms -gt $worst ] && worst=$ms
        u=$(usage_of "$1")
        [ $n -eq 2 ] && case "$u" in *" 0 0") ;; *) echo "first $u" >"$TMP/usage" ;; esac
        case "$u" in # a process on its way out reads as "N 0 0": not a sample
            *" 0 0") ;;
            *) echo "last $u $n $worst" >"$TMP/last" ;;
        esac
        sleep "$SCRAPE_S"
    done
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratios=""; idles=""
echo "round  unscraped_s  idle_s  scraped_s  idle_ratio  scraped_ratio  fds(2nd->last)  VmSize_kB(2nd->last)  VmRSS_kB(2nd->last)  loops  worst_loop_ms"
r=1
while [ $r -le "$ROUNDS" ]; do
    LD_PRELOAD=$LIB MPROF_OUT=$TMP/u "$CHURN" "$THREADS" "$OPS" mixed >"$TMP/u.out" 2>&1
    MPROF_HTTP=127.0.0.1:0 LD_PRELOAD=$LIB MPROF_OUT=$TMP/i "$CHURN" "$THREADS" "$OPS" mixed \
        >"$TMP/i.out" 2>&1
    MPROF_HTTP=127.0.0.1:0 LD_PRELOAD=$LIB MPROF_OUT=$TMP/s "$CHURN" "$THREADS" "$OPS" mixed \
        >"$TMP/s.out" 2>&1 &
    pid=$!
    addr=$(addr_of $pid)
    : >"$TMP/usage"; : >"$TMP/last"
    [ -n "$addr" ] && scrape_loop $pid "$addr"
    wait $pid
    u=$(secs "$TMP/u.out"); i=$(secs "$TMP/i.out"); s=$(secs "$TMP/s.out")
    ratio=$(awk -v u="$u" -v s="$s" 'BEGIN { if (u > 0) printf "%.3f", s / u; else print "?" }')
    idle=$(awk -v u="$u" -v s="$i" 'BEGIN { if (u > 0) printf "%.3f", s / u; else print "?" }')
    ratios="$ratios $ratio"; idles="$idles $idle"
    set -- $(cat "$TMP/usage") x x x x
    f1=$2; v1=$3; r1=$4
    set -- $(cat "$TMP/last") x x x x x x
    echo "$r  $u  $i  $s  $idle  $ratio  $f1->$2  $v1->$3  $r1->$4  $5  $6"
    r=$((r + 1))
done
echo "median idle / unscraped: $(echo $idles | median)"
echo "median scraped / unscraped: $(echo $ratios | median)"

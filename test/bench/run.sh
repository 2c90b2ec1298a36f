#!/bin/sh
# run.sh: mprof against its peers, in one run on one machine (make bench).
# Nothing here is asserted: the figures and the targets of issue 5 are
# reported.
#
#   sh test/bench/run.sh [build dir]
#
# Environment (all optional):
#   QUICK=1      3 rounds, half the operations, one real program, 3 accuracy
#                runs, no full-tracking tcmalloc on the real programs
#   RUNS=n       rounds of the churn and lock workloads (7; QUICK 3)
#   REAL_RUNS=n  rounds of the real programs (5; QUICK 2)
#   ACC_RUNS=n   runs of the known-truth program per sampling heap profiler
#                (100; QUICK 6); the exact ones (full tracking) run 3 times
#   OPS=n        churn operations per thread (20000000; QUICK 10000000)
#   FORKS=n      forks of the fork loop (2000; QUICK 1000)
#   DUMP_N="..." distinct stacks of the dump curve ("10 1000 50000")
#   THREADS_N="..." parked threads of the threads dump curve ("10 100 1000")
#   PEERS="..."  only these peers (bare is always run), e.g. "jemalloc jeprof mprof"
#   WORKLOADS="..." only these workloads (names as in workloads()), e.g. "churn1s lock1"
#   KEEP_TMP=1   keep the scratch directory (every run's records) for a look
#   RESULTS=f    where the report goes (test/bench/RESULTS.md; QUICK, or when
#                PEERS or WORKLOADS is set: <build dir>/test/bench/RESULTS.md)
#
# Method.  Overhead: every round runs every workload under every peer in a
# fixed order (bare, jemalloc, jeprof, ...), so that drift of the machine hits
# all alike; a figure is the median over rounds of the ratio to the bare
# program of the same round.  The churn and lock programs time their own
# steady state (threads start to end); a real program is timed whole, exit
# dump included.  Peak RSS is ru_maxrss from test/bench/measure.c.
# Whole processes (issue 11: what a process that records little pays): a
# fork+_exit loop, 1,024 threads woken by one broadcast, python3 -c pass, a
# bash loop of command substitutions, make -j2 of a small C project; each
# timed whole (start-up and exit included), with peak RSS and the files
# left in the output directory; each under the peers where it means
# something.  Dump curve: test/bench/stacks makes N distinct heap stacks
# (MPROF_MEM_RATE=1), N = 10, 1,000, 50,000; the exit's time is measure's
# end minus the program's own time as it leaves main.
# Accuracy: the known-truth program test/programs/sites (exact workload)
# runs under each heap profiler; each profile is read with that peer's own
# reader, and the in-use bytes per site are compared with the truth lines.
set -eu

B=${1:-build}
B=$(cd "$B" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
LIB=$B/libmprof.so
BIN=$B/test/bench
SITES=$B/test/programs/sites
MEASURE=$BIN/measure
TCS=$BIN/tcsample.so
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
TC=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4
START=$(date +%s)

if [ "${QUICK:-}" = 1 ]; then
    RUNS=${RUNS:-3}; REAL_RUNS=${REAL_RUNS:-2}; ACC_RUNS=${ACC_RUNS:-6}
    OPS=${OPS:-10000000}; LOCK1_OPS=25000000; LOCK2_OPS=1000000; FORKS=${FORKS:-1000}
    HEAPPROF_REAL=0
    RESULTS=${RESULTS:-$BIN/RESULTS.md}
else
    RUNS=${RUNS:-7}; REAL_RUNS=${REAL_RUNS:-5}; ACC_RUNS=${ACC_RUNS:-100}
    OPS=${OPS:-20000000}; LOCK1_OPS=50000000; LOCK2_OPS=2000000; FORKS=${FORKS:-2000}
    HEAPPROF_REAL=1
    if [ -n "${PEERS:-}${WORKLOADS:-}" ]; then
        RESULTS=${RESULTS:-$BIN/RESULTS.md}
    else
        RESULTS=${RESULTS:-$SRC/RESULTS.md}
    fi
fi
DUMP_N=${DUMP_N:-10 1000 50000}
THREADS_N=${THREADS_N:-10 100 1000}
MIN_INUSE=4194304 # sites with at least this many bytes in use (8 periods)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mprof-bench.XXXXXX")
if [ -n "${KEEP_TMP:-}" ]; then trap 'echo "bench: kept $TMP" >&2' EXIT; else trap 'rm -rf "$TMP"' EXIT; fi
trap 'exit 130' INT TERM
OUT=$TMP/out # each run's profiles; emptied after each run
mkdir -p "$OUT"
NOTES=$TMP/notes
: >"$NOTES"
note() { echo "$*" >>"$NOTES"; echo "bench: $*" >&2; }

# --- the peers -------------------------------------------------------------
# One per line: name|own allocator|churn divisor|kinds|cap|environment|prefix
#   own allocator  the bare peer of the same allocator, for the second ratio
#   churn divisor  slow peers run OPS/divisor churn operations (ratios are
#                  per operation, so they stay comparable)
#   kinds          heap (churn, real programs, accuracy), lock, all, or proc
#                  (only the whole-process workloads that name it)
#   cap            at most this many rounds of the real programs (- = all)
#   environment    VAR=value words for env(1); the profile goes under $OUT
#   prefix         a command put in front of the program
JEPROF_CONF=prof:true,lg_prof_sample:19,prof_final:true,prof_prefix:$OUT/je
HT_CAP=-
all_peers() {
    cat <<EOF
bare|bare|1|all|-||
jemalloc|jemalloc|1|heap|-|LD_PRELOAD=$JE|
jeprof|jemalloc|1|heap|-|LD_PRELOAD=$JE MALLOC_CONF=$JEPROF_CONF|
tcmalloc|tcmalloc|1|heap|-|LD_PRELOAD=$TC|
tcmalloc_heapprof|tcmalloc|400|heap|$HEAPPROF_REAL|LD_PRELOAD=$TC HEAPPROFILE=$OUT/tc|
tcmalloc_sample|tcmalloc|1|heap|-|LD_PRELOAD='$TC $TCS' TCMALLOC_SAMPLE_PARAMETER=524288 TCSAMPLE_OUT=$OUT/tcs.heap|
heaptrack|bare|40|heap|$HT_CAP||heaptrack -o $OUT/ht
mprof|bare|1|all|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m|
mprof_off|bare|1|all|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_MEM_RATE=0 MPROF_BLOCK_RATE=0 MPROF_MUTEX_FRACTION=0|
mprof_rate1|bare|20|heap|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_MEM_RATE=1|
mprof_jemalloc|jemalloc|1|heap|-|LD_PRELOAD='$LIB $JE' MPROF_OUT=$OUT/m|
mprof_locks_all|bare|1|lock|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_BLOCK_RATE=1 MPROF_MUTEX_FRACTION=1|
mprof_block_off|bare|1|proc|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_BLOCK_RATE=0|
mprof_nopeak|bare|1|heap|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_PEAK_GROWTH=off|
mprof_hold|bare|1|lock|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_MUTEX_HOLD=1|
mprof_tc_off|bare|1|proc|-|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_THREADCREATE=0|
EOF
}

# Whether a peer can run here; says why not.
peer_ok() { # name
    case $1 in
    jemalloc | jeprof | mprof_jemalloc)
        [ -r "$JE" ] || { note "$1 skipped: no $JE (package libjemalloc2)"; return 1; } ;;
    esac
    case $1 in
    jeprof)
        # Debian's jemalloc is built with --enable-prof; a build without it
        # says "Invalid conf pair: prof:true" on stderr.
        if MALLOC_CONF=prof:true LD_PRELOAD=$JE /bin/true 2>&1 | grep -q .; then
            note "jeprof skipped: this jemalloc does not support prof:true"
            return 1
        fi
        command -v jeprof >/dev/null || { note "jeprof skipped: no jeprof (package libjemalloc-dev)"; return 1; } ;;
    tcmalloc*)
        [ -r "$TC" ] || { note "$1 skipped: no $TC (package libgoogle-perftools4)"; return 1; }
        command -v google-pprof >/dev/null || { note "$1 skipped: no google-pprof (package google-perftools)"; return 1; } ;;
    heaptrack)
        command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
            { note "heaptrack skipped: not installed (package heaptrack)"; return 1; } ;;
    esac
    case $1 in
    tcmalloc_sample)
        [ -r "$TCS" ] || { note "tcmalloc_sample skipped: $TCS not built"; return 1; } ;;
    esac
    return 0
}

wanted() { # name list
    [ -z "$2" ] && return 0
    for w in $2; do [ "$w" = "$1" ] && return 0; done
    return 1
}

all_peers | while IFS='|' read -r name own div kinds cap envs prefix; do
    if [ "$name" != bare ] && ! wanted "$name" "${PEERS:-}"; then continue; fi
    peer_ok "$name" || continue
    echo "$name|$own|$div|$kinds|$cap|$envs|$prefix"
done >"$TMP/peers"
# A peer's own allocator must be there for its second ratio.
for own in jemalloc tcmalloc; do
    if ! grep -q "^$own|" "$TMP/peers" && grep -q "|$own|" "$TMP/peers"; then
        if peer_ok "$own"; then all_peers | grep "^$own|" >>"$TMP/peers"; fi
    fi
done

# --- the workloads ---------------------------------------------------------
# A small C project: 20 files of a few functions each and a main, and a
# script that builds it from clean with make -j2 (every run rebuilds all).
make_cproj() { # dir
    mkdir -p "$1"
    i=1
    while [ "$i" -le 20 ]; do
        sed "s/@/$i/g" >"$1/f$i.c" <<'CSRC'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct rec@ { int id; char name[32]; double w; };
static int cmp@(const void *a, const void *b)
{
    return ((const struct rec@ *)a)->id - ((const struct rec@ *)b)->id;
}
int f@(int n)
{
    struct rec@ r[16];
    for (int k = 0; k < 16; k++) {
        r[k].id = (k * 7 + n) % 16;
        snprintf(r[k].name, sizeof r[k].name, "r%d", k);
        r[k].w = k * 0.5;
    }
    qsort(r, 16, sizeof r[0], cmp@);
    return r[n % 16].id + (int)strlen(r[0].name);
}
CSRC
        i=$((i + 1))
    done
    {
        i=1; while [ "$i" -le 20 ]; do echo "int f$i(int);"; i=$((i + 1)); done
        echo "int main(void)"; echo "{"; echo "    int s = 0;"
        i=1; while [ "$i" -le 20 ]; do echo "    s += f$i($i);"; i=$((i + 1)); done
        echo "    return s == 0;"; echo "}"
    } >"$1/main.c"
    cat >"$1/Makefile" <<'MK'
OBJS := main.o $(patsubst %.c,%.o,$(wildcard f*.c))
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c
	$(CC) -O2 -c $< -o $@
MK
    printf 'cd "%s" && rm -f ./*.o prog && exec make -s -j2 CC=cc\n' "$1" >"$1/build.sh"
}
# name|kind|rounds|label|command ({OPS} is replaced by the operations count)
CC1PLUS=$(g++ -print-prog-name=cc1plus 2>/dev/null || true)
all_workloads() {
    cat <<EOF
churn1s|heap|$RUNS|churn, 1 thread, small (16-127 B)|$BIN/churn 1 {OPS} small
churn1m|heap|$RUNS|churn, 1 thread, mixed (16 B-4 KiB)|$BIN/churn 1 {OPS} mixed
churn2s|heap|$RUNS|churn, 2 threads, small|$BIN/churn 2 {OPS} small
churn2m|heap|$RUNS|churn, 2 threads, mixed|$BIN/churn 2 {OPS} mixed
gxx|prog|$REAL_RUNS|g++ -O2 (cc1plus) of compile_me.cc|$CC1PLUS -fpreprocessed -quiet -O2 $TMP/compile_me.ii -o $OUT/compile_me.s
perl|prog|$REAL_RUNS|perl alloc.pl|perl $SRC/alloc.pl
lock1|lock|$RUNS|uncontended lock+unlock, 1 thread|$BIN/locks 1 $LOCK1_OPS
lock2|lock|$RUNS|contended lock+unlock, 2 threads, 1 mutex|$BIN/locks 2 $LOCK2_OPS
churnw|proc=mprof,mprof_off,jemalloc,jeprof|$RUNS|churn whole process (1 thread, small, 10M pairs)|$BIN/churn 1 10000000 small
forks|proc=mprof,mprof_off,jemalloc,jeprof|$RUNS|fork + _exit + wait x $FORKS|$BIN/forks $FORKS
herd|proc=mprof,mprof_block_off,mprof_tc_off,mprof_off|$RUNS|1,024 threads on 1 cond, 5 broadcasts|$BIN/herd 1024 5
python|proc=mprof,mprof_off,jemalloc,jeprof|$RUNS|python3 -c pass|/usr/bin/python3 -c pass
subst|proc=mprof,mprof_off,jeprof|$RUNS|bash: 100 command substitutions|bash $TMP/subst.sh
make|proc=mprof,mprof_off,jemalloc,jeprof|$RUNS|make -j2 of 21 small C files|sh $TMP/cproj/build.sh
EOF
}
all_workloads | while IFS='|' read -r name kind rounds label cmd; do
    wanted "$name" "${WORKLOADS:-}" || continue
    if [ "${QUICK:-}" = 1 ] && [ "$name" = perl ]; then continue; fi
    case $name in
    gxx)
        case $CC1PLUS in
        /*) ;;
        *) note "gxx skipped: no cc1plus (package g++)"; continue ;;
        esac
        g++ -E "$SRC/compile_me.cc" -o "$TMP/compile_me.ii" ;;
    perl)
        command -v perl >/dev/null || { note "perl skipped: no perl"; continue; } ;;
    python)
        [ -x /usr/bin/python3 ] || { note "python skipped: no /usr/bin/python3"; continue; } ;;
    subst)
        command -v bash >/dev/null || { note "subst skipped: no bash"; continue; }
        # x=$(echo $i), 100 times; the loop's own $(seq) is one more
        echo 'for i in $(seq 100); do x=$(echo $i); done' >"$TMP/subst.sh" ;;
    make)
        command -v make >/dev/null && command -v cc >/dev/null ||
            { note "make skipped: no make or cc"; continue; }
        make_cproj "$TMP/cproj" ;;
    esac
    echo "$name|$kind|$rounds|$label|$cmd"
done >"$TMP/workloads"

# --- running ---------------------------------------------------------------
# One run of a command under a peer.  Appends to $TMP/m1 the measure line;
# the program's stdout goes to $TMP/stdout.  Returns non-zero on failure,
# after keeping the end of its stderr in the notes.
run_peer() { # peer-name environment prefix command
    : >"$TMP/m1"
    if eval "\"\$MEASURE\" \"\$TMP/m1\" env $2 $3 $4" </dev/null >"$TMP/stdout" 2>"$TMP/stderr"; then
        return 0
    fi
    note "$1 failed on: $4"
    tail -n 5 "$TMP/stderr" | sed 's/^/    /' >>"$NOTES"
    return 1
}

field() { # name file: the value of name=value in the file
    sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -n 1
}

max_rounds=$(awk -F'|' 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$TMP/workloads")
runs=$TMP/runs
: >"$runs"
echo "bench: $max_rounds rounds of $(wc -l <"$TMP/workloads") workloads x $(wc -l <"$TMP/peers") peers; report to $RESULTS" >&2
r=1
while [ "$r" -le "$max_rounds" ]; do
    while IFS='|' read -r w kind rounds label cmd; do
        [ "$r" -le "$rounds" ] || continue
        while IFS='|' read -r p own div kinds cap envs prefix; do
            case $kind in
            proc=*) # bare and the peers it names
                [ "$p" = bare ] || case ",${kind#proc=}," in *",$p,"*) ;; *) continue ;; esac ;;
            *) case $kinds in all | "$kind") ;; heap) [ "$kind" = prog ] || continue ;; *) continue ;; esac ;;
            esac
            if [ "$kind" = prog ] && [ "$cap" != - ] && [ "$r" -gt "$cap" ]; then continue; fi
            ops=$((OPS / div))
            c=$(echo "$cmd" | sed "s/{OPS}/$ops/")
            rm -rf "$OUT" && mkdir -p "$OUT"
            if run_peer "$p" "$envs" "$prefix" "$c"; then
                rss=$(field maxrss_kb "$TMP/m1")
                inner=-
                case $kind in
                prog) metric=$(field wall "$TMP/m1"); extra=- ;;
                proc=*) metric=$(field wall "$TMP/m1")
                   extra=$(find "$OUT" -type f | wc -l) # files left behind
                   inner=$(field seconds "$TMP/stdout"); inner=${inner:--} ;;
                *) metric=$(field ns_per_op "$TMP/stdout")
                   extra=$(field handoffs "$TMP/stdout"); extra=${extra:--} ;;
                esac
                echo "$w $r $p ${metric:-fail} $rss $extra $inner" >>"$runs"
            else
                echo "$w $r $p fail - - -" >>"$runs"
            fi
        done <"$TMP/peers"
    done <"$TMP/workloads"
    echo "bench: round $r done ($(($(date +%s) - START)) s)" >&2
    r=$((r + 1))
done

# --- dump curve ------------------------------------------------------------
# stacks N with every allocation recorded: mprof at MPROF_MEM_RATE=1, the
# same with the heap profile off (nothing to dump), jemalloc's profiler
# sampling every allocation (lg_prof_sample:0, its final dump), and bare for
# the exit's baseline.  Records "<N> <round> <peer> <wall> <rss kB>
# <exit s> <profile bytes>".
curve=$TMP/curve
: >"$curve"
if [ -z "${WORKLOADS:-}" ] || wanted dump "$WORKLOADS"; then
    {
        echo "bare|"
        echo "mprof_rate1|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_MEM_RATE=1"
        echo "mprof_heap_off|LD_PRELOAD=$LIB MPROF_OUT=$OUT/m MPROF_MEM_RATE=0"
        if grep -q '^jeprof|' "$TMP/peers"; then
            echo "jeprof_all|LD_PRELOAD=$JE MALLOC_CONF=prof:true,lg_prof_sample:0,prof_final:true,prof_prefix:$OUT/je"
        fi
    } >"$TMP/curve_peers"
    r=1
    while [ "$r" -le "$RUNS" ]; do
        for n in $DUMP_N; do
            while IFS='|' read -r p envs; do
                rm -rf "$OUT" && mkdir -p "$OUT"
                if run_peer "$p" "$envs" "" "$BIN/stacks $n"; then
                    main_end=$(field main_end "$TMP/stdout")
                    end=$(field end "$TMP/m1")
                    bytes=$(find "$OUT" -type f -exec cat {} + 2>/dev/null | wc -c)
                    echo "$n $r $p $(field wall "$TMP/m1") $(field maxrss_kb "$TMP/m1")" \
                        "$(echo "$end $main_end" | awk '{ printf "%.6f", $1 - $2 }') $bytes" >>"$curve"
                fi
            done <"$TMP/curve_peers"
        done
        r=$((r + 1))
    done
    echo "bench: dump curve done ($(($(date +%s) - START)) s)" >&2
fi

# --- threads dump curve ----------------------------------------------------
# parked N: N threads parked in a condition wait, 5 dumps asked for by the
# dump signal, each timed from the signal to its threads profile (issue
# 14: the cost of a threads dump per thread).  Records "<N> <round>
# <median ms per dump>".
tcurve=$TMP/tcurve
: >"$tcurve"
if [ -z "${WORKLOADS:-}" ] || wanted threads "$WORKLOADS"; then
    r=1
    while [ "$r" -le "$RUNS" ]; do
        for n in $THREADS_N; do
            rm -rf "$OUT" && mkdir -p "$OUT"
            if run_peer mprof "LD_PRELOAD=$LIB MPROF_OUT=$OUT/m" "" "$BIN/parked $n 5"; then
                echo "$n $r $(field dump_ms "$TMP/stdout")" >>"$tcurve"
            fi
        done
        r=$((r + 1))
    done
    echo "bench: threads dump curve done ($(($(date +%s) - START)) s)" >&2
fi

# --- accuracy --------------------------------------------------------------
# Each reader prints "<function> <in-use bytes>" for the flat (leaf) bytes.
read_pprof_text() { # tool profile: jeprof and google-pprof (gperftools' pprof)
    "$1" --text --inuse_space --show_bytes --nodefraction=0 --nodecount=1000000 \
        "$SITES" "$2" 2>/dev/null |
        awk 'NF >= 6 && $1 ~ /^[0-9]+$/ && $2 ~ /%$/ {
            n = $6; for (i = 7; i <= NF; i++) n = n " " $i; print n, $1 }'
}
read_go_pprof() { # profile: mprof's, read by go tool pprof
    go tool pprof -top -nodecount=1000000 -nodefraction=0 -symbolize=none \
        -sample_index=inuse_space -unit=B "$1" 2>/dev/null |
        awk 'go && NF >= 6 { v = $1; sub(/B$/, "", v)
                 n = $6; for (i = 7; i <= NF; i++) n = n " " $i; print n, v }
             $1 == "flat" && $2 == "flat%" { go = 1 }'
}
read_heaptrack() { # data file: leaked bytes by leaf frame
    heaptrack_print -f "$1" -p 0 -a 0 -T 0 -l 0 --flamegraph-cost-type leaked \
        -F "$TMP/stacks" >/dev/null 2>&1
    awk '{ v = $NF; sub(/[ \t]*[0-9]+$/, ""); sub(/;$/, "")
           n = split($0, f, ";"); leaf = f[n]; sub(/ \(.*\)$/, "", leaf)
           if (v > 0) s[leaf] += v }
         END { for (k in s) print k, s[k] }' "$TMP/stacks"
}

acc=$TMP/acc
: >"$acc"
acc_peers=$(awk -F'|' '$1 ~ /^(jeprof|tcmalloc_heapprof|tcmalloc_sample|heaptrack|mprof|mprof_rate1|mprof_jemalloc)$/ { print $1 }' "$TMP/peers")
if [ ! -x "$SITES" ]; then
    note "accuracy skipped: no $SITES (make programs)"
    acc_peers=
fi
if [ -n "${WORKLOADS:-}" ] && ! wanted acc "$WORKLOADS"; then acc_peers=; fi
for p in $acc_peers; do
    line=$(grep "^$p|" "$TMP/peers")
    envs=$(echo "$line" | cut -d'|' -f6)
    prefix=$(echo "$line" | cut -d'|' -f7)
    case $p in # full tracking gives the same answer every run
    tcmalloc_heapprof | heaptrack | mprof_rate1) n=$((ACC_RUNS < 3 ? ACC_RUNS : 3)) ;;
    *) n=$ACC_RUNS ;;
    esac
    a=1
    while [ "$a" -le "$n" ]; do
        rm -rf "$OUT" && mkdir -p "$OUT"
        if run_peer "$p" "$envs" "$prefix" "$SITES"; then
            case $p in
            jeprof) f=$(ls "$OUT"/je.*.heap 2>/dev/null | tail -n 1)
                    est() { read_pprof_text jeprof "$f"; } ;;
            tcmalloc_heapprof) f=$(ls "$OUT"/tc.*.heap 2>/dev/null | tail -n 1)
                    est() { read_pprof_text google-pprof "$f"; } ;;
            tcmalloc_sample) f=$OUT/tcs.heap
                    est() { read_pprof_text google-pprof "$f"; } ;;
            heaptrack) f=$(ls "$OUT"/ht.* 2>/dev/null | head -n 1)
                    est() { read_heaptrack "$f"; } ;;
            mprof*) f=$(ls "$OUT"/m.*.heap.pb.gz 2>/dev/null | tail -n 1)
                    est() { read_go_pprof "$f"; } ;;
            esac
            if [ -n "$f" ] && [ -s "$f" ]; then
                est >"$TMP/est"
                awk -v p="$p" -v a="$a" '
                    FILENAME == ARGV[1] { e[$1] = $2; next }
                    $1 == "truth" { print p, a, $3, $8, ($3 in e) ? e[$3] : 0 }
                ' "$TMP/est" "$TMP/stdout" >>"$acc"
            else
                note "$p wrote no profile for $SITES"
            fi
        fi
        a=$((a + 1))
    done
    echo "bench: accuracy $p done ($(($(date +%s) - START)) s)" >&2
done

# --- the report ------------------------------------------------------------
cpu=$(sed -n 's/^model name[ \t]*: //p' /proc/cpuinfo | head -n 1)
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
commit=$(cd "$SRC" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(cd "$SRC" && git status --porcelain -- core preload 2>/dev/null)" ]; then
    commit="$commit (core/ or preload/ modified)"
fi
elapsed=$(($(date +%s) - START))
if [ "${QUICK:-}" = 1 ]; then mode="QUICK=1"; else mode="full"; fi

cat <<EOF >"$TMP/report"
# mprof benchmark results

Written by \`make bench\` (test/bench/run.sh, $mode run). Do not edit by hand:
run \`make bench\` again.

| machine | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| CPU | $cpu, $(nproc) cores online |
| kernel | $(uname -sr) |
| glibc | $glibc |
| peers | jemalloc $(pkgver libjemalloc2), gperftools $(pkgver libgoogle-perftools4), heaptrack $(pkgver heaptrack), $(g++ -dumpfullversion 2>/dev/null | sed 's/^/gcc /'), perl $(perl -e 'printf "%vd", $^V' 2>/dev/null) |
| mprof | commit $commit |
| settings | $RUNS rounds (real programs $REAL_RUNS), churn $OPS ops per thread, $ACC_RUNS accuracy runs per sampling profiler; took $elapsed s |

EOF
{
cat "$TMP/peers" | awk -F'|' '{ print "peer", NR, $1, $2, $3 }'
cat "$TMP/workloads" | awk -F'|' '{ print "work", NR, $1, $2, $3, $4 }'
sed 's/^/run /' "$runs"
sed 's/^/acc /' "$acc"
sed 's/^/curve /' "$curve"
sed 's/^/tcurve /' "$tcurve"
} | awk -v min_inuse="$MIN_INUSE" -f "$SRC/report.awk" >>"$TMP/report"

if [ -s "$NOTES" ]; then
    { echo "## Problems in this run"; echo; sed 's/^/    /' "$NOTES"; echo; } >>"$TMP/report"
fi
cat "$SRC/peers.md" >>"$TMP/report"
cat "$TMP/report"
mkdir -p "$(dirname "$RESULTS")"
cp "$TMP/report" "$RESULTS"
echo "bench: wrote $RESULTS in $(($(date +%s) - START)) s" >&2

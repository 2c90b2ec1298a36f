#!/bin/sh
# run.sh: overhead benchmarks (make bench).  Nothing here is asserted.
#
#   sh test/bench/run.sh [build dir]
#
# Environment: QUICK=1 (3 runs instead of 7), RUNS=<n>, OPS=<churn ops per
# thread>, LOCK_OPS=<lock pairs per thread>, THREADS="1 2".
#
# Runs each benchmark (churn: malloc/free; locks: 1 thread uncontended, 2
# threads contended) under every configuration of its list, for each thread
# count, interleaved (bare, mprof, ..., bare, mprof, ...) so that drift of
# the machine hits every configuration alike.  Reports per configuration the
# median wall time, the median ns per operation, the median over runs of the
# ratio to its baseline measured in the same round, and the median ns added.
set -eu

B=${1:-build}
B=$(cd "$B" && pwd)
LIB=$B/libmprof.so
CHURN=$B/test/bench/churn
LOCKS=$B/test/bench/locks
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

if [ "${QUICK:-}" = 1 ]; then RUNS=${RUNS:-3}; else RUNS=${RUNS:-7}; fi
OPS=${OPS:-20000000}
LOCK_OPS=${LOCK_OPS:-20000000}
THREADS=${THREADS:-"1 2"}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mprof-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# One configuration per line: name|baseline|ops divisor|environment|prefix
#   environment  VAR=value words given to env(1); quote values with spaces
#   prefix       a command put in front of the program (e.g. heaptrack -o ...)
#   ops divisor  for slow configurations: the ratio is then computed per op
# To compare more setups, add lines, e.g.
#   jemalloc|jemalloc|1|LD_PRELOAD=$JEMALLOC|
#   mprof_jemalloc|jemalloc|1|LD_PRELOAD='$LIB $JEMALLOC' MPROF_OUT=$TMP/m|
#   heaptrack|bare|20||heaptrack -o $TMP/ht
churn_configs() {
    cat <<EOF
bare|bare|1||
mprof|bare|1|LD_PRELOAD=$LIB MPROF_OUT=$TMP/mprof|
mprof_rate1|bare|10|LD_PRELOAD=$LIB MPROF_OUT=$TMP/mprof MPROF_MEM_RATE=1|
EOF
}

# Locks at default settings (block rate 10 us, mutex fraction 10) and with
# every event recorded.
locks_configs() {
    cat <<EOF
bare|bare|1||
mprof|bare|1|LD_PRELOAD=$LIB MPROF_OUT=$TMP/mprof|
mprof_all|bare|1|LD_PRELOAD=$LIB MPROF_OUT=$TMP/mprof MPROF_BLOCK_RATE=1 MPROF_MUTEX_FRACTION=1|
EOF
}
: "$JEMALLOC" # referenced by the examples above

# One run: prints "<seconds> <ns_per_op>".
run_one() { # program threads ops environment prefix
    prog=$1
    out=$(eval "env $4 $5 \"\$prog\" $2 $3") || {
        echo "bench: $prog failed under: $4 $5" >&2
        exit 1
    }
    echo "$out" | sed -n 's/.*seconds=\([0-9.]*\) ns_per_op=\([0-9.]*\).*/\1 \2/p'
}

# bench <program> <configs function> <ops per thread> <title>
bench() {
results=$TMP/results
: >"$results"
for t in $THREADS; do
    r=1
    while [ "$r" -le "$RUNS" ]; do
        $2 | while IFS='|' read -r name base div envs prefix; do
            m=$(run_one "$1" "$t" $(($3 / div)) "$envs" "$prefix")
            echo "$t $r $name $base $m" >>"$results"
        done
        r=$((r + 1))
    done
done

echo "$4, $RUNS runs each, interleaved"
# The order of configurations as listed, for the report.
$2 | awk -F'|' '{ print "order", NR, $1 }' >"$TMP/order"
cat "$TMP/order" "$results" | awk '
function median(list,    n, a, i, j, x) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) {           # insertion sort: n is small
        x = a[i]; j = i - 1
        while (j > 0 && a[j] + 0 > x + 0) { a[j + 1] = a[j]; j-- }
        a[j + 1] = x
    }
    if (n % 2) return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "order" { order[$2] = $3; norder = $2; next }
{
    t = $1; r = $2; name = $3
    base[name] = $4; threads[t] = 1
    secs[t, name] = secs[t, name] " " $5
    nsop[t, name] = nsop[t, name] " " $6
    ns[t, r, name] = $6
    rounds[t, name] = rounds[t, name] " " r
}
END {
    printf "%-8s %-16s %10s %10s %10s %10s\n", "threads", "config", "median s", "ns/op", "ratio", "+ns/op"
    for (t = 1; t <= 64; t++) {
        if (!(t in threads)) continue
        for (i = 1; i <= norder; i++) {
            name = order[i]; b = base[name]
            if (!((t, name) in secs)) continue
            ratios = ""; added = ""
            n = split(rounds[t, name], rs, " ")
            for (k = 1; k <= n; k++) {
                ratios = ratios " " ns[t, rs[k], name] / ns[t, rs[k], b]
                added = added " " ns[t, rs[k], name] - ns[t, rs[k], b]
            }
            printf "%-8s %-16s %10.4f %10.2f %10.3f %10.2f", t, name,
                median(secs[t, name]), median(nsop[t, name]), median(ratios), median(added)
            if (name != b) printf "  (vs %s)", b
            printf "\n"
        }
    }
}'
}

bench "$CHURN" churn_configs "$OPS" "churn: $OPS malloc+free per thread (divided for slow configs)"
echo
bench "$LOCKS" locks_configs "$LOCK_OPS" "locks: $LOCK_OPS lock+unlock pairs per thread (1 thread uncontended, 2 contended)"

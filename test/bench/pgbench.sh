#!/bin/sh
# pgbench.sh: PostgreSQL with a connection per transaction (pgbench -C -S),
# a new backend process per transaction, bare and under each profiler
# (issue 11: a process that records little must pay little). Not part of
# `make bench`: it needs PostgreSQL 15 (apt install postgresql-15) and root
# (the servers run as the postgres user).
#
#   sh test/bench/pgbench.sh [build dir] [rounds] [seconds per run]
#
# One server per peer, side by side; each round runs pgbench once against
# each, so that a machine whose speed drifts (a VM) moves every peer alike.
# Prints, per peer, the median over rounds of its ratio to bare in the same
# round: throughput (tps), and CPU per connection (the server and all its
# backends, from perf stat; steadier than tps on 2 cores). Peers mprof_shm
# and mprof_shm_nopeak (PEERS=...) write their profiles to /dev/shm, with
# and without the peak profile: each backend writes a file or two, and
# the script prints what creating one costs on each file system (on an
# ext4 without a journal that has just deleted many files, the inode
# allocator's scan makes it ~0.6 ms, a fifth of a connection).
set -eu
B=$(cd "${1:-build}" && pwd)
ROUNDS=${2:-6}
T=${3:-4}
BIN=/usr/lib/postgresql/15/bin
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -x $BIN/pgbench ] || { echo "pgbench.sh: no $BIN/pgbench (apt install postgresql-15)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "pgbench.sh: run as root (the server runs as postgres)" >&2; exit 1; }
command -v perf >/dev/null || { echo "pgbench.sh: no perf (apt install linux-perf)" >&2; exit 1; }
D=$(mktemp -d /tmp/mprof-pgbench.XXXXXX)
OUT=$D/prof
SHM=$(mktemp -d /dev/shm/mprof-pgbench.XXXXXX)
mkdir -p "$OUT" && chown -R postgres "$D" "$SHM"
trap 'rm -rf "$D" "$SHM"' EXIT
as_pg() { su postgres -s /bin/sh -c "$*"; }

PEERS="${PEERS:-bare jemalloc jeprof mprof mprof_off}"
env_of() {
    case $1 in
    bare) echo "" ;;
    jemalloc) echo "LD_PRELOAD=$JE" ;;
    jeprof) echo "LD_PRELOAD=$JE MALLOC_CONF=prof:true,lg_prof_sample:19,prof_final:true,prof_prefix:$OUT/je" ;;
    mprof) echo "LD_PRELOAD=$B/libmprof.so MPROF_OUT=$OUT/m" ;;
    mprof_off) echo "LD_PRELOAD=$B/libmprof.so MPROF_OUT=$OUT/off MPROF_MEM_RATE=0 MPROF_BLOCK_RATE=0 MPROF_MUTEX_FRACTION=0" ;;
    mprof_shm) echo "LD_PRELOAD=$B/libmprof.so MPROF_OUT=$SHM/m" ;;
    mprof_shm_nopeak) echo "LD_PRELOAD=$B/libmprof.so MPROF_OUT=$SHM/np MPROF_PEAK_GROWTH=off" ;;
    esac
}
# The cost of creating a file (open O_CREAT|O_EXCL, close, rename) in dir $1.
create_us() {
    python3 -c 'import os, sys, time
d = sys.argv[1]; t = time.perf_counter()
for i in range(200):
    os.close(os.open("%s/fc%d.tmp" % (d, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    os.rename("%s/fc%d.tmp" % (d, i), "%s/fc%d" % (d, i))
print("%.0f" % ((time.perf_counter() - t) / 200 * 1e6))' "$1"
}
mkdir -p "$D/fc" "$SHM/fc"
echo "creating a file: $(create_us "$D/fc") us in $D, $(create_us "$SHM/fc") us in $SHM"
port=5544
for p in $PEERS; do
    as_pg "$BIN/initdb -D $D/$p -A trust >/dev/null"
    as_pg "env $(env_of $p) $BIN/pg_ctl -D $D/$p -o '-k $D -p $port -c listen_addresses=' -l $D/$p.log -w start >/dev/null"
    as_pg "$BIN/pgbench -h $D -p $port -i -s 2 postgres >/dev/null 2>&1"
    as_pg "$BIN/pgbench -h $D -p $port -C -S -T 1 postgres >/dev/null 2>&1" # warm
    echo "$p $port" >> $D/ports
    port=$((port + 1))
done
# Each round starts one peer further down the list, so that no peer is
# always the one run first (or right after another) in its round.
npeers=$(wc -l < $D/ports)
for r in $(seq "$ROUNDS"); do
    k=$(( (r - 1) % npeers ))
    { tail -n +$((k + 1)) $D/ports; head -n $k $D/ports; } > $D/order
    while read -r p port; do
        pm=$(head -1 $D/$p/postmaster.pid)
        perf stat -x, -e task-clock -p "$pm" -o $D/stat -- \
            su postgres -s /bin/sh -c "$BIN/pgbench -h $D -p $port -C -S -T $T postgres 2>/dev/null" > $D/out
        tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' $D/out)
        tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' $D/out)
        cpu=$(awk -F, '/task-clock/ {print $1}' $D/stat)
        echo "$p $tps $cpu $tx" >> $D/results
    done < $D/order
done
while read -r p port; do as_pg "$BIN/pg_ctl -D $D/$p -m fast -w stop >/dev/null"; done < $D/ports
python3 - "$D/results" "$OUT" <<'PY'
import os, statistics as st, sys
runs = {}
for line in open(sys.argv[1]):
    p, tps, cpu, tx = line.split()
    runs.setdefault(p, []).append((float(tps), float(cpu) / int(tx)))
bare = runs["bare"]
print("%-10s %9s %9s %12s %9s" % ("peer", "tps", "x bare", "CPU ms/conn", "x bare"))
for p, v in runs.items():
    tps = st.median(x[0] for x in v)
    cpu = st.median(x[1] for x in v)
    rt = st.median(x[0] / b[0] for x, b in zip(v, bare))
    rc = st.median(x[1] / b[1] for x, b in zip(v, bare))
    print("%-10s %9.0f %8.2fx %12.2f %8.2fx" % (p, tps, rt, cpu, rc))
if "jemalloc" in runs and "jeprof" in runs:
    j = runs["jemalloc"]
    print("jeprof over jemalloc: tps %.2fx" % st.median(x[0] / b[0] for x, b in zip(runs["jeprof"], j)))
files = os.listdir(sys.argv[2])
print("files: mprof %d, jeprof %d" % (sum(f.startswith("m.") for f in files),
                                     sum(f.startswith("je.") for f in files)))
PY

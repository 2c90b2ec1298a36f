#!/bin/sh
# pgbench.sh: PostgreSQL with a connection per transaction (pgbench -C -S),
# a new backend process per transaction, bare and under each profiler
# (issue 11: a process that records little must pay little). Not part of
# `make bench`: it needs PostgreSQL 15 (apt install postgresql-15) and root
# (the server runs as the postgres user).
#
#   sh test/bench/pgbench.sh [build dir]    prints "peer tps" lines, 3 runs each
set -eu
B=$(cd "${1:-build}" && pwd)
BIN=/usr/lib/postgresql/15/bin
D=$(mktemp -d /tmp/mprof-pgbench.XXXXXX)
OUT=$D/prof
[ -x $BIN/pgbench ] || { echo "pgbench.sh: no $BIN/pgbench (apt install postgresql-15)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "pgbench.sh: run as root (the server runs as postgres)" >&2; exit 1; }
mkdir -p "$OUT" && chown -R postgres "$D"
as_pg() { su postgres -s /bin/sh -c "$*"; }
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
run() { # peer environment...
    peer=$1; shift
    rm -rf "$D/data" "$OUT"/*
    as_pg "$BIN/initdb -D $D/data -A trust >/dev/null"
    as_pg "env $* $BIN/pg_ctl -D $D/data -o '-k $D -p 5544 -c listen_addresses=' -l $D/log -w start >/dev/null"
    as_pg "$BIN/pgbench -h $D -p 5544 -i -s 2 postgres >/dev/null 2>&1"
    for r in 1 2 3; do
        as_pg "$BIN/pgbench -h $D -p 5544 -C -S -T 5 postgres 2>/dev/null" |
            sed -n "s/^tps = \([0-9.]*\).*/$peer \1/p"
    done
    as_pg "$BIN/pg_ctl -D $D/data -m fast -w stop >/dev/null"
    echo "$peer files $(ls "$OUT" | wc -l)"
}
run bare
run jemalloc LD_PRELOAD=$JE
run jeprof LD_PRELOAD=$JE MALLOC_CONF=prof:true,lg_prof_sample:19,prof_final:true,prof_prefix:$OUT/je
run mprof LD_PRELOAD=$B/libmprof.so MPROF_OUT=$OUT/m
run mprof_off LD_PRELOAD=$B/libmprof.so MPROF_OUT=$OUT/m MPROF_MEM_RATE=0 MPROF_BLOCK_RATE=0 MPROF_MUTEX_FRACTION=0
rm -rf "$D"

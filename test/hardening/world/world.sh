#!/bin/sh
# world.sh: real programs from Debian's packages, run twice -- bare, then
# under LD_PRELOAD=libmprof.so -- in the same directory with the same
# inputs.  Their stdout, stderr, exit status and the files they make must
# be the same, and every profile the mprof run leaves (one set per process:
# gcc, git and python start several) must read back with
# `go tool pprof -raw`.
#
#   sh world.sh <build dir> <this directory>
#
# mprof runs with every profile on and a low heap rate, so sampling,
# unwinding, lock profiling and dumps happen often: MPROF_MEM_RATE=4096,
# MPROF_BLOCK_RATE=10000, MPROF_MUTEX_FRACTION=1, and a 1 s dump interval.
# Work directories stay in <build>/test/hardening/world-work/<case>.
set -u

B=$1
SRC=$2
LIB=$B/libmprof.so
W=$B/test/hardening/world-work
MPROF_SETTINGS="MPROF_MEM_RATE=4096 MPROF_BLOCK_RATE=10000 MPROF_MUTEX_FRACTION=1 MPROF_DUMP_INTERVAL=1"

rm -rf "$W"
mkdir -p "$W"
failed=0
passed=0

# Debian's interpreters, not a pyenv or perlbrew shim in front of them.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
PERL=/usr/bin/perl
[ -x "$PERL" ] || PERL=$(command -v perl)

# Deterministic git: fixed identity and dates, no user or system config.
export GIT_AUTHOR_NAME=mprof GIT_AUTHOR_EMAIL=mprof@example.org
export GIT_COMMITTER_NAME=mprof GIT_COMMITTER_EMAIL=mprof@example.org
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export LC_ALL=C TZ=UTC
unset LD_PRELOAD MPROF_MEM_RATE MPROF_BLOCK_RATE MPROF_MUTEX_FRACTION \
      MPROF_EPOCH_MS MPROF_OUT MPROF_SIGNAL MPROF_DUMP_INTERVAL MPROF_STACK_DEPTH

fail() {
    echo "world: $case: FAIL: $*" >&2
    failed=$((failed + 1))
}

# Every profile must read back with `go tool pprof`.  Without go that
# check would pass by checking nothing, so the run fails, once, up front
# (make deps installs golang-go); the cases still run.
have_go=1
if ! go version > /dev/null 2>&1; then
    case=setup
    fail "go is not on PATH: the profiles cannot be read back with go tool pprof" \
         "(make deps installs golang-go)"
    have_go=0
fi

# Inputs, identical for both runs.
prepare() {
    case $case in
    sort)
        awk 'BEGIN { x = 1; for (i = 0; i < 400000; i++) {
                 x = (x * 1103515245 + 12345) % 2147483648;
                 printf "%08x %d line%d\n", x, x % 100000, i } }' > input.txt ;;
    xz)
        awk 'BEGIN { x = 7; for (i = 0; i < 300000; i++) {
                 x = (x * 69069 + 1) % 4294967296;
                 printf "%d %s\n", x % 1000, (x % 3 ? "alpha" : "beta") } }' > data.txt ;;
    gcc)
        cp "$SRC/world_cxx.cc" . ;;
    esac
}

# The case itself, in the current directory; stdout/stderr are compared.
body() {
    case $case in
    python)
        "$PYTHON" "$SRC/world.py" ;;
    perl)
        "$PERL" "$SRC/world.pl" ;;
    gcc)
        g++ -O2 -g -std=gnu++17 -pthread -c world_cxx.cc -o world.o &&
        g++ -pthread world.o -o world && ./world | tail -n 2 ;;
    sort)
        sort --parallel=2 -S 2M -T . -k2,2n -k1,1 input.txt > sorted.txt &&
        sort --parallel=2 -S 2M -T . -u -k2,2n input.txt | wc -l ;;
    xz)
        xz -T2 --block-size=1MiB -6 -k data.txt &&
        xz -T2 -d -c data.txt.xz | cmp - data.txt && xz -l data.txt.xz | tail -n 1 ;;
    git)
        git init -q -b main repo && cd repo &&
        for i in 1 2 3 4 5 6; do
            seq 1 $((i * 2000)) | sed "s/^/line $i /" > "file$i.txt"
            git add . && git commit -q -m "commit $i" || return 1
        done &&
        git log --stat --format='%H %s' | head -n 40 &&
        git gc -q && git repack -q -a -d -f --threads=2 && git fsck --no-progress &&
        git count-objects -v | grep -v size && git rev-parse HEAD ;;
    cxx)
        "$B/test/hardening/world_cxx" ;;
    esac
}

# What the case left behind, reduced to a digest (profiles excluded).
digest() {
    find . -type f ! -name '*.pb.gz' ! -path './repo/.git/*' -print | sort |
        while read -r f; do
            printf '%s ' "$f"
            sha256sum < "$f"
        done
    if [ -d repo/.git ]; then # git's own files hold times; compare content
        (cd repo && git rev-parse HEAD && git ls-files -s)
    fi
}

run_one() { # $1 = bare | mprof
    rm -rf "$dir/run" && mkdir -p "$dir/run" && cd "$dir/run" || return 1
    prepare
    if [ "$1" = bare ]; then
        (body) > "$dir/$1.out" 2> "$dir/$1.err"
    else
        (export LD_PRELOAD="$LIB" MPROF_OUT="$dir/prof/p"
         for s in $MPROF_SETTINGS; do export "$s"; done
         body) > "$dir/$1.out" 2> "$dir/$1.err"
    fi
    echo $? > "$dir/$1.rc"
    digest > "$dir/$1.files"
    cd "$W" || exit 1
}

for case in python perl gcc sort xz git cxx; do
    dir=$W/$case
    mkdir -p "$dir/prof"
    start=$(date +%s)
    before=$failed
    run_one bare
    run_one mprof
    for what in rc out err files; do
        if ! cmp -s "$dir/bare.$what" "$dir/mprof.$what"; then
            fail "$what differs from the bare run:"
            diff "$dir/bare.$what" "$dir/mprof.$what" | head -n 20 >&2
        fi
    done
    [ "$(cat "$dir/bare.rc")" = 0 ] || fail "exit status $(cat "$dir/bare.rc") even bare"
    n=0
    bad=0
    for f in "$dir"/prof/*.pb.gz; do
        [ -e "$f" ] || break
        n=$((n + 1))
        [ "$have_go" = 1 ] || continue
        if ! go tool pprof -raw "$f" > /dev/null 2> "$dir/pprof.err"; then
            bad=$((bad + 1))
            fail "go tool pprof -raw cannot read $f: $(head -c 300 "$dir/pprof.err")"
        fi
    done
    procs=$(ls "$dir/prof" | sed -n 's/^p\.\([0-9]*\)\..*/\1/p' | sort -u | wc -l)
    # at least a heap profile; block and mutex profiles with nothing in
    # them are not written
    [ "$n" -ge 1 ] || fail "no profile file"
    if ls "$dir/prof" | grep -q '\.tmp$'; then
        fail "temporary profile files left in $dir/prof"
    fi
    end=$(date +%s)
    if [ "$have_go" = 1 ]; then read="read back, $bad unreadable"; else read="NOT read back (no go)"; fi
    echo "world: $case: $n profiles from $procs processes $read, $((end - start)) s"
    [ "$failed" = "$before" ] && passed=$((passed + 1))
done

echo "world: $passed of 7 cases unchanged under mprof, $failed failures"
[ "$failed" = 0 ]

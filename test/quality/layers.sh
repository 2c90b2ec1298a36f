#!/bin/sh
# layers.sh: the one-way arrows between mprof's folders (README.md, "How it
# works"), checked on the #include lines of every source file:
#
#   core/ (base)     includes neither half
#   core/output/     includes nothing of core/record/
#   core/record/     includes nothing of core/output/, except dump.c, the bridge
#   preload/         includes, of core/, only its door: core/record/profiler.h
#                    (slow paths, state changes) and core/record/shim.h (the
#                    inline fast-path tests), besides its own headers; and
#                    core/log.h, which real.c needs to say that libc lacks a
#                    call it wraps: a leaf with no state, and the one way
#                    mprof talks to the user (routing it through profiler.h
#                    would only rename it)
#   tools/           includes nothing of core/record/
#
# Prints each include that breaks one and exits 1; run by `make lint`.
cd "$(dirname "$0")/../.." || exit 2
headers() { for f in "$1"/*.h; do basename "$f"; done; }
RECORD=$(headers core/record)
OUTPUT=$(headers core/output)
bad=0
check() { # files... -- forbidden headers...
    files=""
    while [ "$1" != "--" ]; do files="$files $1"; shift; done
    shift
    for f in $files; do
        [ -f "$f" ] || continue
        for h in "$@"; do
            if grep -q "^#include \"$h\"" "$f"; then
                echo "layers: $f includes $h"
                bad=1
            fi
        done
    done
}
check core/*.c core/*.h -- $RECORD $OUTPUT
check core/output/*.c core/output/*.h -- $RECORD
for f in core/record/*.c core/record/*.h; do
    case $f in core/record/dump.c) continue ;; esac
    check "$f" -- $OUTPUT
done
PRELOAD_DOOR="profiler.h shim.h log.h"
for f in preload/*.c preload/*.h; do
    [ -f "$f" ] || continue
    for h in $(sed -n 's/^#include "\(.*\)".*/\1/p' "$f"); do
        case $h in */*) ;; *) [ -f "preload/$h" ] && continue ;; esac
        case " $PRELOAD_DOOR " in *" $h "*) continue ;; esac
        echo "layers: $f includes $h (preload/ reaches core/ through profiler.h and shim.h)"
        bad=1
    done
done
check tools/*.c tools/*.h -- $RECORD
[ $bad = 0 ] && echo "layers: every include goes the one way"
exit $bad

#!/bin/sh
# layers.sh: the one-way arrows between mprof's folders (README.md, "How it
# works"), checked on the #include lines of every source file:
#
#   core/ (base)     includes neither half
#   core/output/     includes nothing of core/record/
#   core/record/     includes nothing of core/output/, except dump.c, the bridge
#   preload/         includes nothing of core/output/
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
check preload/*.c preload/*.h -- $OUTPUT
check tools/*.c tools/*.h -- $RECORD
[ $bad = 0 ] && echo "layers: every include goes the one way"
exit $bad

#!/usr/bin/env python3
"""make_corpus.py: writes the hand-made edge cases of fuzz/corpus/.

The real profiles beside them were copied in once: mprof_heap.pb.gz (and
its gunzipped mprof_heap.pb) from test/programs/sites --div 1000 at
MPROF_MEM_RATE=1, mprof_block.pb.gz from test/programs/threads, and
go_heap.pb.gz (and go_heap.pb) / go_mutex.pb.gz written by Go's
runtime/pprof (MemProfileRate=1, mutex fraction 1).  This script only
(re)creates the synthetic ones:

  python3 fuzz/make_corpus.py fuzz/corpus
"""
import gzip
import os
import sys


def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(num, wire):
    return varint(num << 3 | wire)


def u(num, v):  # varint field
    return key(num, 0) + varint(v)


def ld(num, payload):  # length-delimited field
    return key(num, 2) + varint(len(payload)) + payload


def packed(num, vals):
    return ld(num, b"".join(varint(v) for v in vals))


STRINGS = ["", "alloc_objects", "count", "inuse_space", "bytes", "space",
           "main", "/src/main.c", "/usr/bin/app", "abc123", "bytes_label",
           "note: hand-made", "tag", "ns"]


def s(name):
    return STRINGS.index(name)


def unpacked_any_order():
    """Every repeated scalar unpacked, fields interleaved and out of order,
    ids neither dense nor sorted, a label of each kind, unknown fields."""
    body = b""
    body += u(12, 1)                                 # period first
    body += ld(2, u(1, 7) + u(2, 3) + u(1, 9) + u(2, 5)   # sample, unpacked
               + ld(3, u(1, s("tag")) + u(2, s("abc123")))
               + ld(3, u(1, s("bytes_label")) + u(3, 64) + u(4, s("bytes"))))
    body += ld(1, u(1, s("alloc_objects")) + u(2, s("count")))
    body += ld(4, u(1, 9) + u(2, 3) + u(3, 0x401233)
               + ld(4, u(1, 42) + u(2, 17)))          # location 9
    body += ld(1, u(1, s("inuse_space")) + u(2, s("bytes")))
    body += ld(4, u(1, 7) + u(3, 0x401000) + u(5, 1)) # location 7, folded
    body += ld(5, u(1, 42) + u(2, s("main")) + u(3, s("main"))
               + u(4, s("/src/main.c")) + u(5, 10))
    body += ld(3, u(1, 3) + u(2, 0x400000) + u(3, 0x500000)
               + u(5, s("/usr/bin/app")) + u(6, s("abc123")) + u(7, 1))
    body += ld(99, b"unknown field, skipped")
    body += key(98, 5) + b"\x01\x02\x03\x04"          # unknown fixed32
    body += key(97, 1) + b"\x00" * 8                  # unknown fixed64
    body += ld(11, u(1, s("space")) + u(2, s("bytes")))
    body += u(13, s("note: hand-made")) + u(13, s("tag"))
    body += u(14, s("inuse_space")) + u(7, s("main")) + u(8, s("tag"))
    body += u(9, 1_700_000_000_000_000_000) + u(10, 5_000_000_000)
    for st in STRINGS:
        body += ld(6, st.encode())
    return body


def packed_profile():
    """The same content the way mprof and Go write it (packed)."""
    body = b""
    body += ld(1, u(1, s("alloc_objects")) + u(2, s("count")))
    body += ld(2, packed(1, [1, 2]) + packed(2, [2**63 - 1]))
    body += ld(4, u(1, 1) + u(3, 0x10) + ld(4, u(1, 1) + u(2, 3)))
    body += ld(4, u(1, 2) + u(3, 0x20))
    body += ld(5, u(1, 1) + u(2, s("main")))
    body += ld(6, b"")
    for st in STRINGS[1:]:
        body += ld(6, st.encode())
    return body


def main(out):
    os.makedirs(out, exist_ok=True)
    cases = {
        "edge_empty.pb": b"",
        "edge_minimal.pb": ld(6, b""),
        "edge_unpacked_any_order.pb": unpacked_any_order(),
        "edge_packed.pb": packed_profile(),
        # A sample that names a location that does not exist.
        "edge_bad_ref.pb": ld(1, u(1, 0)) + ld(2, packed(1, [5]) + packed(2, [1]))
                           + ld(6, b""),
        # Two gzip members, as `cat a.gz b.gz` makes.
        "edge_concat.pb.gz": gzip.compress(packed_profile()[:20], mtime=0)
                             + gzip.compress(packed_profile()[20:], mtime=0),
        "edge_truncated.pb.gz": gzip.compress(unpacked_any_order(), mtime=0)[:-9],
    }
    for name, data in cases.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus")

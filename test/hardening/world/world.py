"""world.py: a Python workload for check-world (bare vs under mprof).

Threads, a process pool of one subprocess, JSON, regular expressions,
hashing, compression and a lot of small objects.  Everything it prints is
deterministic, so the output of the two runs must be identical.
"""
import hashlib
import json
import re
import subprocess
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor


def work(seed):
    x = seed * 2654435761 % 2**32
    words = {}
    for i in range(20000):
        x = (x * 1103515245 + 12345) % 2**31
        w = "w%05d" % (x % 5000)
        words.setdefault(w, []).append(i)
    text = " ".join(sorted(words))
    found = re.findall(r"w0*(\d{2})\b", text)
    blob = json.dumps({k: v[:3] for k, v in sorted(words.items())[:500]}, sort_keys=True)
    packed = zlib.compress(blob.encode(), 6)
    return (seed, len(words), len(found),
            hashlib.sha256(packed).hexdigest()[:16],
            json.loads(zlib.decompress(packed))["w00001"] if "w00001" in words else None)


def main():
    lock = threading.Lock()
    total = [0]

    def counted(seed):
        r = work(seed)
        with lock:
            total[0] += r[1]
        return r

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(counted, range(16)))
    for r in results:
        print(*r)
    print("total", total[0])
    out = subprocess.run([sys.executable, "-c", "print(sum(range(10**6)))"],
                         capture_output=True, text=True, check=True)
    print("child", out.stdout.strip())
    big = [str(i) * (i % 7) for i in range(200000)]
    print("big", len(big), hashlib.md5("".join(big[::997]).encode()).hexdigest())


main()

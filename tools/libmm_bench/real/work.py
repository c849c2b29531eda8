"""A Python workload for the libmm benchmark: json, re and threads.

Usage: python3 work.py N
Two threads each build N records, dump them to JSON and load them back,
scan the text with regular expressions and count the words; the main
thread prints one digest per thread and one of the whole. The output
depends only on N. Run with PYTHONMALLOC=malloc so that every object
goes through the preloaded malloc (tools/bench_libmm.py).
"""
import collections
import hashlib
import json
import random
import re
import sys
import threading

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango").split()


def records(seed, n):
    rnd = random.Random(seed)
    return [{"id": i, "name": "user%d" % rnd.randrange(10 ** 6),
             "tags": [rnd.choice(WORDS) for _ in range(rnd.randrange(1, 8))],
             "score": round(rnd.random() * 100, 3),
             "nested": {"depth": rnd.randrange(5), "note": " ".join(
                 rnd.choice(WORDS) for _ in range(6))}}
            for i in range(n)]


def job(seed, n, out):
    data = records(seed, n)
    text = json.dumps(data, sort_keys=True, indent=1)
    back = json.loads(text)
    counts = collections.Counter(re.findall(r"[a-z]+", text))
    renamed = [re.sub(r"user(\d+)", r"u-\1@example.org", r["name"])
               for r in back]
    scores = sorted((r["score"], r["id"]) for r in back)
    digest = hashlib.sha256(text.encode())
    digest.update(repr(counts.most_common(30)).encode())
    digest.update(" ".join(renamed).encode())
    digest.update(repr(scores[:: max(1, n // 50)]).encode())
    out[seed] = digest.hexdigest()


def main():
    n = int(sys.argv[1])
    out = {}
    threads = [threading.Thread(target=job, args=(seed, n, out))
               for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in sorted(out):
        print("thread %d: %s" % (seed, out[seed]))
    print("all:", hashlib.sha256(
        "".join(out[s] for s in sorted(out)).encode()).hexdigest())


if __name__ == "__main__":
    main()

"""The workload of traces/real-python.rep: json, re and sorting on data made
from a fixed seed (CPython's small objects live in its own arenas, so
malloc sees the larger objects: lists, dicts, strings over 512 bytes)."""
import json
import random
import re

rng = random.Random(4)
WORDS = ["alloc", "block", "free", "heap", "list", "split", "merge", "page",
         "fit", "size", "tag", "footer", "header", "epilogue", "prologue"]


def record(i):
    return {"id": i, "name": "-".join(rng.choice(WORDS) for _ in range(3)),
            "sizes": [rng.randrange(1, 4096)
                      for _ in range(rng.randrange(40))],
            "note": " ".join(rng.choice(WORDS)
                             for _ in range(rng.randrange(90)))}


rows = [record(i) for i in range(400)]
text = json.dumps(rows, indent=1)
back = json.loads(text)
names = sorted((r["name"] for r in back), key=lambda n: (len(n), n))
pairs = re.findall(r'"name": "([a-z]+)-([a-z]+)-([a-z]+)"', text)
counts = {}
for pair in pairs:
    counts[pair[1]] = counts.get(pair[1], 0) + 1
chunks = [text[i:i + 2000].upper() for i in range(0, len(text), 2000)]
chunks.sort(key=lambda c: c.count("HEAP"))
print(len(text), len(names), len(pairs), sorted(counts.items())[:3],
      len(chunks))

"""How long loading the licence knowledge base takes.

Run: ``python benchmarks/kb_load.py``. Prints the median of several loads for a full parse and
schema validation of every file (what a changed file or an empty cache costs) and for a load from
the mtime-keyed cache (what every later process pays). The target is well under 100 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from licenses.engine.kb import LICENSES_DIR, load_knowledge_base

RUNS = 15


def median_ms(load) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        load()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    files = len(list(LICENSES_DIR.glob("*.yaml")))
    start = time.perf_counter()
    load_knowledge_base(cache_dir=False)
    first = (time.perf_counter() - start) * 1000
    uncached = median_ms(lambda: load_knowledge_base(cache_dir=False))
    with tempfile.TemporaryDirectory() as cache:
        load_knowledge_base(cache_dir=Path(cache))
        cached = median_ms(lambda: load_knowledge_base(cache_dir=Path(cache)))
    print(f"{files} licence files")
    print(f"first load in this process (imports jsonschema): {first:6.1f} ms")
    print(f"parse + validate, median of {RUNS}:            {uncached:6.1f} ms")
    print(f"from cache, median of {RUNS}:                  {cached:6.1f} ms")


if __name__ == "__main__":
    main()

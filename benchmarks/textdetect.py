"""Benchmark of the licence text detector on the 42 reference texts.

Prints the per-file detection time (mean, p95), the accuracy against the expectation table
kept in tests/engine/test_textdetect.py beside ScanCode's figure on the same texts (26/42,
recorded in shared/corpus/license-texts/INDEX.md and shared/docs/licenses.md §4), and the
ratio of our mean detection time to the bare cost of reading the file in the same run, so
the figure means something on any machine.

Usage: .venv/bin/python benchmarks/textdetect.py [--rounds N] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from licenses.engine.textdetect import detect_license_text  # noqa: E402
from tests.engine.test_textdetect import EXPECTED  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "license-texts"
#: ScanCode 32.5.0 names 26 of the 42 texts right (INDEX.md's last column, licenses.md §4).
SCANCODE_CORRECT = 26


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(corpus: Path, rounds: int) -> int:
    files = sorted(corpus.glob("*.txt"))
    if not files:
        print(f"no corpus texts under {corpus}", file=sys.stderr)
        return 2
    detect_license_text("warm-up")  # loads and normalises the signatures once
    read_ms: list[float] = []
    detect_ms: list[float] = []
    misses: list[str] = []
    for rnd in range(rounds):
        for path in files:
            t0 = time.perf_counter()
            text = path.read_text(encoding="utf-8")
            t1 = time.perf_counter()
            got = detect_license_text(text)
            t2 = time.perf_counter()
            read_ms.append((t1 - t0) * 1000)
            detect_ms.append((t2 - t1) * 1000)
            if rnd == 0 and (got.key, got.kind) != EXPECTED.get(path.stem):
                misses.append(
                    f"  {path.stem}: expected {EXPECTED.get(path.stem)}, got ({got.key}, {got.kind})"
                )
    n = len(files)
    correct = n - len(misses)
    mean_detect, mean_read = statistics.fmean(detect_ms), statistics.fmean(read_ms)
    print(f"texts: {n}, rounds: {rounds}")
    print(
        f"detection time per file: mean {mean_detect:.2f} ms, p95 {_p95(detect_ms):.2f} ms, "
        f"median {statistics.median(detect_ms):.2f} ms"
    )
    print(
        f"reading the file:        mean {mean_read:.3f} ms, p95 {_p95(read_ms):.3f} ms, "
        f"median {statistics.median(read_ms):.3f} ms"
    )
    print(f"detection / read ratio:  {mean_detect / mean_read:.1f}x")
    print(f"accuracy: {correct}/{n} (ScanCode 32.5.0: {SCANCODE_CORRECT}/42)")
    for line in misses:
        print(line)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    return run(args.corpus, max(1, args.rounds))


if __name__ == "__main__":
    sys.exit(main())

"""Metadata mirror of real cards from a local upstream, against the floor of merely fetching them.

The upstream is ``tests/fixtures/upstream/server.py`` in its own process, seeded with
``../shared/corpus/hf-cards-2023/cards.jsonl.gz`` (25,109 real READMEs). Both sides use
the same client (``workers.mirror.upstream.Upstream``: the real ``huggingface_hub``
session, headers, error mapping) and the same concurrency:

* floor: page through ``/api/models`` (same expand, same page size) and GET every README —
  run before and again after the mirror, and the mirror compared with the mean of the two,
  because on a shared machine the load drifts within minutes;
* mirror: ``manage.py mirror --files none`` end to end into a fresh registry (SQLite by
  default, ``DATABASE_URL`` to use PostgreSQL): repository rows, blobs, commits carrying the
  upstream sha, denormalised card columns, mirror state, run counters. Analysis of each
  revision is *enqueued* as in production (to the workers that do analysis) — with
  ``--analysis inline`` it runs in the mirror's process too, for comparison;
* ``--latency-ms``: the upstream adds this delay to every answer. On loopback (0 ms) the
  floor is bounded by CPU and the ratio is the worst case; against huggingface.co every
  request waits on the network, which the mirror's database work overlaps;
* no-op: the same mirror run again (nothing changed upstream), i.e. the cost of a
  scheduled pass over an up-to-date mirror.

Target (issue): mirror ≤ 1.5 × floor. Usage:
``.venv/bin/python benchmarks/mirror.py [--limit N] [--concurrency C] [--analysis deferred|inline]``.
Prints figures (and a JSON line); asserts nothing about time.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT.parent / "shared" / "corpus" / "hf-cards-2023" / "cards.jsonl.gz"
PROJECTED = 2_000_000


class Usage(NamedTuple):
    """This process's resource use so far (all threads).

    CPU time is less sensitive than wall time to a loaded machine. Its user/system split and the
    context switches are printed per phase because runs of the same code differ in how their CPU
    splits: much system time and many voluntary switches point at threads handing the GIL to one
    another, or at the kernel's own work.
    """

    user: float
    sys: float
    voluntary: int
    involuntary: int

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def usage_now() -> Usage:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return Usage(u.ru_utime, u.ru_stime, u.ru_nvcsw, u.ru_nivcsw)


def usage_delta(before: Usage, after: Usage) -> dict:
    return {
        "user_s": round(after.user - before.user, 2),
        "sys_s": round(after.sys - before.sys, 2),
        "voluntary_switches": after.voluntary - before.voluntary,
        "involuntary_switches": after.involuntary - before.involuntary,
    }


def start_upstream(limit: int | None, port: int, latency_ms: float) -> subprocess.Popen:
    server = "tests.fixtures.upstream.server"
    cmd = [sys.executable, "-m", server, "--port", str(port), "--cards-jsonl", str(CARDS)]
    if limit:
        cmd += ["--limit", str(limit)]
    if latency_ms:
        cmd += ["--latency", str(latency_ms / 1000)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "ready <url> <n>" once seeded
    if not line.startswith("ready"):
        proc.kill()
        raise SystemExit(f"upstream did not start: {line!r}")
    return proc


def floor(url: str, *, concurrency: int, page_size: int, limit: int | None) -> tuple[int, float]:
    """List every page and fetch every README with the mirror's own client; nothing stored."""
    from workers.mirror.selection import first_page_params, list_source
    from workers.mirror.upstream import Upstream

    up = Upstream(url, max_concurrency=concurrency)
    started = time.perf_counter()
    n = 0
    with ThreadPoolExecutor(concurrency) as pool:
        page = up.list_page(up.list_url(), first_page_params(list_source([]), page_size))
        while True:
            items = [
                i for i in page.items if i.siblings and any(s.rfilename == "README.md" for s in i.siblings)
            ]
            list(pool.map(lambda i: up.read_small(i.id, i.sha, "README.md", max_bytes=10 * 1024**2), items))

            n += len(page.items)
            if page.next_url is None or (limit and n >= limit):
                break
            page = up.list_page(page.next_url)
    return n, time.perf_counter() - started


def mirror_pass(url: str, *, concurrency: int, limit: int | None) -> tuple[dict, float]:
    from workers.mirror.run import execute
    from workers.models import MirrorRun

    run = MirrorRun.objects.create(
        upstream=url, options={"files": "none", "max_concurrency": concurrency, "limit": limit}
    )
    started = time.perf_counter()
    result = execute(run.pk)
    elapsed = time.perf_counter() - started
    counts = {k: getattr(result, k) for k in ("status", "listed", "changed", "fetched", "bytes", "failed")}
    if result.failed:  # say which repositories failed and why, so a failure count is never a mystery
        counts["first_errors"] = list(result.errors or [])[:5]
    return counts, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="cards to serve (default: all 25,109)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--analysis", choices=["deferred", "inline"], default="deferred")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="added by the upstream to every request (a WAN-like upstream)",
    )
    args = parser.parse_args()
    if not CARDS.is_file():
        raise SystemExit(f"corpus not found: {CARDS}")

    var = Path(tempfile.mkdtemp(prefix="modelhub-bench-mirror-"))
    atexit.register(shutil.rmtree, var, True)  # the registry, blobs and SQLite file of this run only
    os.environ["MODELHUB_VAR"] = str(var)
    os.environ["MODELHUB_TASKS_EAGER"] = "1" if args.analysis == "inline" else "0"
    os.environ.pop("REDIS_URL", None)  # deferred: analysis messages stay on the in-memory broker
    os.environ["MIRROR_PAGE_SIZE"] = str(args.page_size)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    # Module imports are a worker process's one-time cost, not a per-model one: done before either
    # side is timed (the floor's client modules are among them), so neither pays them in its figure.
    import workers.mirror.run
    import workers.tasks  # noqa: F401
    from tests.services import free_port

    seed_started = time.perf_counter()
    port = free_port()
    upstream = start_upstream(args.limit, port, args.latency_ms)
    seed_s = time.perf_counter() - seed_started
    url = f"http://127.0.0.1:{port}"
    try:
        # floor, mirror, floor again: on a shared machine the load drifts within minutes, and the
        # mirror is compared with the mean of the floor just before and just after it
        loads = [os.getloadavg()[0]]
        use0 = usage_now()
        n_floor, floor_before_s = floor(
            url, concurrency=args.concurrency, page_size=args.page_size, limit=args.limit
        )
        use1 = usage_now()
        loads.append(os.getloadavg()[0])
        counts, mirror_s = mirror_pass(url, concurrency=args.concurrency, limit=args.limit)
        use2 = usage_now()
        loads.append(os.getloadavg()[0])
        _, floor_after_s = floor(
            url, concurrency=args.concurrency, page_size=args.page_size, limit=args.limit
        )
        use3 = usage_now()
        loads.append(os.getloadavg()[0])
        again, noop_s = mirror_pass(url, concurrency=args.concurrency, limit=args.limit)
    finally:
        upstream.terminate()
        upstream.wait(timeout=20)
    n = counts["listed"]
    floor_s = (floor_before_s + floor_after_s) / 2
    floor_cpu = ((use1.cpu - use0.cpu) + (use3.cpu - use2.cpu)) / 2
    figures = {
        "models": n,
        "database": connection.vendor,
        "concurrency": args.concurrency,
        "analysis": args.analysis,
        "upstream_latency_ms": args.latency_ms,
        "upstream_seed_s": round(seed_s, 1),
        "load_average": [round(x, 1) for x in loads],
        "floor_before_s": round(floor_before_s, 2),
        "floor_after_s": round(floor_after_s, 2),
        "floor_s": round(floor_s, 2),
        "floor_models_per_s": round(n_floor / floor_s, 1),
        "mirror_s": round(mirror_s, 2),
        "mirror_models_per_s": round(n / mirror_s, 1),
        "ratio_to_floor": round((mirror_s / n) / (floor_s / n_floor), 2),
        "floor_cpu_s": round(floor_cpu, 2),
        "mirror_cpu_s": round(use2.cpu - use1.cpu, 2),
        "cpu_ratio_to_floor": round(((use2.cpu - use1.cpu) / n) / (floor_cpu / n_floor), 2),
        "floor_before_usage": usage_delta(use0, use1),
        "mirror_usage": usage_delta(use1, use2),
        "noop_rerun_s": round(noop_s, 2),
        "noop_models_per_s": round(again["listed"] / noop_s, 1),
        "projected_2m_first_pass_h": round(PROJECTED / (n / mirror_s) / 3600, 2),
        "projected_2m_noop_pass_h": round(PROJECTED / (again["listed"] / noop_s) / 3600, 2),
        "run": counts,
        "rerun": again,
    }
    print(
        f"{n} real cards ({connection.vendor}, concurrency {args.concurrency}, analysis {args.analysis},"
        f" upstream latency {args.latency_ms} ms)\n"
        f"  floor (list + README GET):  {figures['floor_models_per_s']:>8} models/s  ({floor_s:.1f} s: mean of"
        f" {floor_before_s:.1f} s before and {floor_after_s:.1f} s after the mirror)\n"
        f"  mirror (end to end):        {figures['mirror_models_per_s']:>8} models/s  ({mirror_s:.1f} s)"
        f"  = {figures['ratio_to_floor']}x the floor (target <= 1.5x)\n"
        f"  client CPU: floor {figures['floor_cpu_s']} s, mirror {figures['mirror_cpu_s']} s"
        f"  = {figures['cpu_ratio_to_floor']}x (the upstream's CPU is in neither)\n"
        f"  no-op re-run:               {figures['noop_models_per_s']:>8} models/s  ({noop_s:.1f} s)\n"
        f"  projected for 2,000,000 models: first pass {figures['projected_2m_first_pass_h']} h,"
        f" no-op pass {figures['projected_2m_noop_pass_h']} h\n"
        f"  floor before / mirror, user + sys CPU s and voluntary context switches: "
        f"{figures['floor_before_usage']} / {figures['mirror_usage']}\n"
        f"  load average at each step: {figures['load_average']}\n"
        f"  run: {counts}  re-run: {again}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

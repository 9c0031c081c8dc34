"""Throughput and latency of compliance checks against gunicorn on PostgreSQL.

Seeds a throw-away PostgreSQL database with N analysed models (default 100,000), serves
the project with gunicorn on a loopback port, and drives it with wrk:

  1. GET /api/v1/ping                       — a trivial DRF endpoint, the baseline
  2. POST /api/v1/compliance/check, 1 model — single-model checks
  3. POST /api/v1/compliance/check, 50 models

Prints requests/s and p50/p99 latency of each, the ratio of each check's throughput to the
baseline's (target: single-model check >= 0.5 of the baseline, p99 < 50 ms), and the server's
CPU time per request (gunicorn + PostgreSQL backends, from /proc): on a shared machine the
wall-clock figures move with everyone else's load, the CPU per request much less.

    python benchmarks/compliance_api.py [--models 100000] [--seconds 15] [--connections 8] [--keep-db]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, as on the CI machine) and `wrk`
(`apt-get install wrk`). Everything it starts, it stops; the database is dropped at the end
unless ``--keep-db`` is given: then it is kept (one per model count) and reused by the next
``--keep-db`` run when it holds the same number of models (seeding 100,000 takes minutes);
``migrate`` still runs, so new migrations (and their backfills) apply to a kept database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql://postgres@127.0.0.1:5432"
DB_PREFIX = "modelhub_bench_compliance"

#: Licence mix for the synthetic registry (share of repositories), from the Hub's most used ids.
LICENSE_MIX = [
    ("apache-2.0", "osi-permissive", "yes", 38),
    ("mit", "osi-permissive", "yes", 17),
    ("llama3.1", "vendor-community", "conditional", 9),
    ("llama2", "vendor-community", "conditional", 6),
    ("gemma", "vendor-community", "conditional", 4),
    ("cc-by-nc-4.0", "noncommercial", "no", 6),
    ("creativeml-openrail-m", "rail", "yes", 5),
    ("openrail", "rail", "yes", 3),
    ("cc-by-4.0", "open-content", "yes", 4),
    ("gpl-3.0", "osi-copyleft", "yes", 2),
    ("unknown", "unknown", "unknown", 6),
]

POLICY = {
    "name": "bench",
    "use": {
        "commercial": True,
        "distribution": "saas",
        "monthly_active_users": 5_000_000,
        "regions": ["EU", "US"],
    },
    "licenses": {"deny_classes": ["noncommercial"], "unknown": "deny"},
    "transparency": {"min_score": 10},
}

SEED = r"""
import random, hashlib
from django.db import transaction
from django.utils import timezone
from hub.models import Namespace, Repository, Commit, Ref, RevisionAnalysis
from licenses.models import LineageEdge

N, MIX = {n}, {mix}
rng = random.Random(7)
weights = [m[3] for m in MIX]
now = timezone.now()
orgs = [Namespace(name=f"org{{i}}", kind="org") for i in range(max(1, N // 100))]
Namespace.objects.bulk_create(orgs, batch_size=2000)
orgs = list(Namespace.objects.order_by("pk"))
BATCH = 5000
for start in range(0, N, BATCH):
    with transaction.atomic():
        picks = [(i, rng.choices(MIX, weights)[0]) for i in range(start, min(N, start + BATCH))]
        repos = [Repository(namespace=orgs[i % len(orgs)], name=f"model-{{i}}", card_license=m[0],
                            last_modified=now) for i, m in picks]
        Repository.objects.bulk_create(repos)
        commits = [Commit(repository=r, sha=hashlib.sha1(r.name.encode()).hexdigest(), title="init")
                   for r in repos]
        Commit.objects.bulk_create(commits)
        Ref.objects.bulk_create([Ref(repository=r, name="main", commit=c) for r, c in zip(repos, commits)])
        analyses = []
        for (i, m), c in zip(picks, commits):
            parent = f"org{{(i // 3) % len(orgs)}}/model-{{i // 3}}" if i > 3 and rng.random() < 0.4 else None
            result = {{"id": f"{{c.repository.namespace.name}}/{{c.repository.name}}",
                      "license": {{"key": m[0], "class": m[1], "spdx": None, "commercial_use": m[2],
                                  "confidence": 0.9, "evidence": [], "conflicts": []}},
                      "lineage": {{"base_models": [{{"id": parent, "relation": "finetune"}}] if parent else []}},
                      "data": {{"datasets": [], "disclosure_level": rng.randint(0, 3)}},
                      "transparency": {{"score": rng.randint(0, 80), "indicators": []}},
                      "violations": []}}
            analyses.append(RevisionAnalysis(commit=c, status="done", result=result, license_key=m[0],
                            license_class=m[1], commercial_use=m[2],
                            transparency_score=result["transparency"]["score"], analysed_at=now))
        RevisionAnalysis.objects.bulk_create(analyses)
        edges = [LineageEdge(child=c.repository, child_ref=a.result["id"].lower(),
                             parent_ref=a.result["lineage"]["base_models"][0]["id"].lower(),
                             parent_display=a.result["lineage"]["base_models"][0]["id"], relation="finetune",
                             parent_license_class="", source="registry")
                 for c, a in zip(commits, analyses) if a.result["lineage"]["base_models"]]
        LineageEdge.objects.bulk_create(edges)
        for r, c, a in zip(repos, commits, analyses):
            r.head, r.latest_analysis = c, a
        Repository.objects.bulk_update(repos, ["head", "latest_analysis"])
print("seeded", Repository.objects.count())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seeded_count(db: str) -> int | None:
    """Models in a kept benchmark database, or None when there is none (or it was never seeded)."""
    try:
        with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM hub_repository").fetchone()[0]
    except psycopg.Error:
        return None


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def parse_wrk(out: str) -> dict[str, float]:
    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)$", out, re.M))
    got = {k: ms(*re.match(r"([\d.]+)(\w+)", v).groups()) for k, v in lat.items()}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "requests": total,
        "p50": got.get("50", 0.0),
        "p99": got.get("99", 0.0),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def server_pids(master: int, db: str) -> tuple[list[int], list[int]]:
    """The gunicorn master and its workers; the PostgreSQL backends serving the benchmark database."""
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == master:
            pids.append(int(entry.name))
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db]).fetchall()
    return pids, [pid for (pid,) in rows]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (a process that has gone counts nothing)."""
    ticks = 0
    for pid in pids:
        if fields := _stat(pid):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, connections: int, body: dict | None, workdir: Path) -> dict[str, float]:
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if body is not None:
        script = workdir / f"post-{abs(hash(json.dumps(body))) % 10**8}.lua"
        script.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
        )
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep-db", action="store_true", help="keep the seeded database and reuse it")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median is reported")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    db = f"{DB_PREFIX}_{args.models}"
    try:
        reuse = args.keep_db and seeded_count(db) == args.models
        if not reuse:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {db}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable at {PG}: {exc}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-compliance-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "MODELHUB_VAR": str(workdir / "var"),
        "MODELHUB_API_RATE": "100000000/min",
        # persistent connections, as production mode has them (the embedded default opens one per
        # request); kept for the whole run so that the backends whose CPU is measured stay the same
        "DATABASE_CONN_MAX_AGE": "3600",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    server = None
    try:
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        if reuse:
            print(f"reusing {db} ({args.models} models)")
        else:
            started = time.perf_counter()
            seed = SEED.format(n=args.models, mix=repr(LICENSE_MIX))
            run([sys.executable, "manage.py", "shell", "-c", seed], env, capture_output=True)
            print(f"seeded {args.models} models in {time.perf_counter() - started:.0f} s")
            with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
                conn.execute("ANALYZE")  # planner statistics, as autovacuum would have them in production
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "hub.wsgi", "--workers", str(args.workers), "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{base}/api/v1/ping", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        rng = random.Random(1)
        orgs = max(1, args.models // 100)
        ids = [f"org{i % orgs}/model-{i}" for i in rng.sample(range(args.models), 50)]
        sample = requests.post(
            f"{base}/api/v1/compliance/check", json={"models": ids, "policy": POLICY}, timeout=30
        )
        sample.raise_for_status()
        verdicts = [r["verdict"] for r in sample.json()["results"]]
        print("sample verdicts:", {v: verdicts.count(v) for v in set(verdicts)})
        # the single-model check uses a model with ancestors, so the lineage walk is part of it
        single = next((r["model"] for r in sample.json()["results"] if r["lineage"]["ancestors"]), ids[0])
        scenarios = [
            ("trivial DRF endpoint (GET /api/v1/ping)", f"{base}/api/v1/ping", None),
            (
                "compliance check, 1 model",
                f"{base}/api/v1/compliance/check",
                {"models": [single], "policy": POLICY},
            ),
            (
                "compliance check, 50 models",
                f"{base}/api/v1/compliance/check",
                {"models": ids, "policy": POLICY},
            ),
        ]
        for _, url, body in scenarios:
            wrk(url, 2, args.connections, body, workdir)  # warm-up: workers, connections, caches
        web, backends = server_pids(server.pid, db)
        runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in scenarios}
        for _ in range(args.rounds):
            for label, url, body in scenarios:
                before = cpu_seconds(web), cpu_seconds(backends)
                got = wrk(url, args.seconds, args.connections, body, workdir)
                got["web_ms"] = 1000 * (cpu_seconds(web) - before[0]) / max(1, got["requests"])
                got["db_ms"] = 1000 * (cpu_seconds(backends) - before[1]) / max(1, got["requests"])
                got["cpu_ms"] = got["web_ms"] + got["db_ms"]
                runs[label].append(got)
        results = []
        for label, _, _ in scenarios:
            median = {k: statistics.median(r[k] for r in runs[label]) for k in runs[label][0]}
            # the CPU split is the one of the round whose total is the median, so the parts add up
            middle = sorted(runs[label], key=lambda r: r["cpu_ms"])[len(runs[label]) // 2]
            results.append((label, {**median, **{k: middle[k] for k in ("cpu_ms", "web_ms", "db_ms")}}))
        baseline = results[0][1]
        print(f"\n{args.models} models, gunicorn --workers {args.workers}, wrk -c {args.connections} "
              f"-d {args.seconds}s x {args.rounds} interleaved rounds (medians), {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}\n")  # fmt: skip
        print(
            "| scenario | req/s | ratio to trivial | p50 ms | p99 ms | non-2xx | server CPU ms/request "
            "(web + db) | CPU ratio |\n|---|---|---|---|---|---|---|---|"
        )
        for label, r in results:
            print(f"| {label} | {r['rps']:.0f} | {r['rps'] / baseline['rps']:.2f} | {r['p50']:.1f} | "
                  f"{r['p99']:.1f} | {r['non2xx']:.0f} | {r['cpu_ms']:.2f} ({r['web_ms']:.2f} + {r['db_ms']:.2f}) | "
                  f"{baseline['cpu_ms'] / r['cpu_ms']:.2f} |")  # fmt: skip
        print(
            "\nserver CPU = gunicorn master and workers + the PostgreSQL backends of the benchmark database;"
        )
        print("CPU ratio = trivial endpoint's CPU per request / this scenario's (its throughput ratio when")
        print("the server is CPU-bound, whatever else the machine runs)")
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep_db:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

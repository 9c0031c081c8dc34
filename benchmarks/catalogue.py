"""Catalogue search latency with a million models in PostgreSQL.

    .venv/bin/python benchmarks/catalogue.py [--models 1000000] [--pg URL] [--reuse] [--repeat 5]

Loads ``--models`` synthetic public models (plus 2% private ones, 20k organisations, one
commit and one analysis each, open violations on 2%) into a dedicated PostgreSQL database
(``modelhub_bench_catalogue`` by default, created and migrated here; ``--reuse`` keeps the
data of a previous run), creates the catalogue's search index (``frontend.search``), then
times full ``GET /models?...`` requests through Django's test client — URL routing, the
catalogue query, capped count, template rendering — for a mix of searches (common and rare
words, prefixes, multi-word, owner prefixes), filters, sorts and deep keyset pages.

Names and descriptions are drawn from families, sizes and suffixes the Hub is full of
(``Llama-3.1-8B-Instruct-GGUF``), with a Zipf-like family popularity, so common words
("llama", "instruct") match 5–15% of the table and rare ones a handful of rows.
Requests with filters are timed twice in the same run, interleaved: with the catalogue's filters on
the repository's own columns (``hub.0005_catalogue_columns``, what ships) and, as the baseline, with
the same filters through the latest analysis (a join per row) and a violations subquery, the way
they were before that migration. Prints p50/p95 per query kind (and the baseline's, with the
baseline/current ratio of p95 for the filtered kinds),
and the machine's load average (latencies on a busy shared machine are inflated accordingly);
target: search p95 < 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/modelhub_bench_catalogue"

FAMILIES = [
    ("llama", "Llama-3.1", "llama3.1"), ("llama", "Llama-2", "llama2"), ("qwen", "Qwen2.5", "qwen"),
    ("mistral", "Mistral", "apache-2.0"), ("gemma", "gemma-2", "gemma"), ("phi", "Phi-3", "mit"),
    ("bert", "bert-base", "apache-2.0"), ("roberta", "roberta-large", "mit"), ("t5", "flan-t5", "apache-2.0"),
    ("whisper", "whisper", "apache-2.0"), ("sd", "stable-diffusion-xl", "creativeml-openrail-m"),
    ("falcon", "falcon", "apache-2.0"), ("deepseek", "DeepSeek-R1-Distill", "mit"), ("yi", "Yi-1.5", "apache-2.0"),
    ("starcoder", "starcoder2", "bigcode-openrail-m"), ("vit", "vit-base-patch16", "apache-2.0"),
    ("clip", "clip-vit", "mit"), ("bloom", "bloomz", "bigscience-bloom-rail-1.0"), ("opt", "opt", "other"),
    ("nc", "research-net", "cc-by-nc-4.0"),
]  # fmt: skip
SIZES = ["0.5B", "1B", "1.5B", "3B", "7B", "8B", "13B", "14B", "32B", "70B", "base", "large", "small", "tiny"]
SUFFIXES = ["", "Instruct", "chat", "GGUF", "AWQ", "GPTQ", "lora", "finetuned", "uncensored", "merged", "sft",
            "dpo", "4bit", "8bit", "v2", "v0.1", "it", "coder", "math", "vision"]  # fmt: skip
WORDS = [
    "alpaca",
    "orca",
    "dolphin",
    "hermes",
    "zephyr",
    "tulu",
    "nous",
    "open",
    "wizard",
    "vicuna",
    "medical",
    "legal",
    "finance",
    "code",
    "german",
    "french",
    "japanese",
    "korean",
    "arabic",
    "hindi",
    "spanish",
    "ner",
    "sentiment",
    "summarization",
    "translation",
    "qa",
    "rag",
    "embedding",
    "reranker",
    "speech",
    "asr",
    "tts",
    "vision",
    "ocr",
    "detection",
    "segmentation",
    "diffusion",
    "anime",
    "photo",
    "portrait",
    "lora",
    "dreambooth",
]
TASKS = ["text-generation", "text-classification", "token-classification", "fill-mask", "translation",
         "automatic-speech-recognition", "text-to-image", "image-classification", "feature-extraction"]  # fmt: skip
LIBRARIES = ["transformers", "peft", "gguf", "diffusers", "sentence-transformers", "timm", "mlx", "onnx"]
CLASS_OF = {"llama3.1": ("vendor-community", "conditional"), "llama2": ("vendor-community", "conditional"),
            "qwen": ("vendor-community", "conditional"), "gemma": ("vendor-community", "conditional"),
            "apache-2.0": ("osi-permissive", "yes"), "mit": ("osi-permissive", "yes"),
            "creativeml-openrail-m": ("rail", "yes"), "bigcode-openrail-m": ("rail", "yes"),
            "bigscience-bloom-rail-1.0": ("rail", "yes"), "other": ("unknown", "unknown"),
            "cc-by-nc-4.0": ("noncommercial", "no")}  # fmt: skip


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("MODELHUB_VAR", tempfile.mkdtemp(prefix="modelhub-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hub.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _template_row(model) -> dict:
    """Every concrete column of ``model`` with the database value of its default (so COPY gets all NOT NULL columns)."""
    from django.db import connection

    obj = model()
    row = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        value = field.get_db_prep_save(getattr(obj, field.attname), connection)
        row[field.column] = value.dumps(value.obj) if hasattr(value, "dumps") else value
    return row


def _copy(cursor, model, rows) -> int:
    template = _template_row(model)
    columns = ["id", *template]
    n = 0
    with cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(c, template.get(c)) for c in columns])
            n += 1
    return n


def load(n_models: int, seed: int) -> None:
    from django.db import connection, transaction

    from hub.models import Namespace
    from licenses.models import Violation

    rng = random.Random(seed)
    now = datetime.now(UTC)
    n_orgs = max(10, n_models // 50)
    weights = [1 / (i + 1) for i in range(len(FAMILIES))]
    total = n_models + n_models // 50  # 2% private on top
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.cursor if hasattr(cur, "cursor") else cur
        raw.execute("SET CONSTRAINTS ALL DEFERRED")
        _copy(raw, Namespace, ({"id": i, "name": f"org{i}-{rng.choice(WORDS)}", "kind": "org", "created_at": now}
                               for i in range(1, n_orgs + 1)))  # fmt: skip
        repos, commits, analyses, violations = [], [], [], []

        def rows():
            for i in range(1, total + 1):
                fam, stem, licence = rng.choices(FAMILIES, weights)[0]
                name = "-".join(p for p in (stem, rng.choice(SIZES), rng.choice(SUFFIXES), rng.choice(WORDS) if rng.random() < 0.4 else "", str(i)) if p)  # fmt: skip
                when = now - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
                words = " ".join(rng.sample(WORDS, 4))
                cls, commercial = CLASS_OF[licence]
                yield i, fam, name, licence, cls, commercial, when, words

        for i, fam, name, licence, cls, commercial, when, words in rows():
            repos.append({
                "id": i, "namespace_id": rng.randrange(1, n_orgs + 1), "name": name, "repo_type": "model",
                "private": i > n_models, "description": f"{stem_text(fam)} model for {words}.",
                "created_at": when, "updated_at": when, "last_modified": when, "head_id": i, "latest_analysis_id": i,
                "library_name": rng.choice(LIBRARIES), "pipeline_tag": rng.choice(TASKS), "card_license": licence,
                "downloads": int(rng.paretovariate(1.1) * 10), "likes": int(rng.paretovariate(1.3)),
                "mirrored_from": f"https://huggingface.co/x/{name}" if rng.random() < 0.3 else "",
            })  # fmt: skip
            commits.append(
                {"id": i, "repository_id": i, "sha": f"{i:040x}", "title": "Upload", "created_at": when}
            )
            score = round(rng.random() * 100, 1)
            columns = {"license_key": licence, "license_class": cls, "commercial_use": commercial,
                       "transparency_score": score, "disclosure_level": rng.randrange(0, 5)}  # fmt: skip
            analyses.append({
                "id": i, "commit_id": i, "status": "done", **columns,
                "result": f'{{"license": {{"key": "{licence}", "class": "{cls}"}}}}', "analysed_at": when,
            })  # fmt: skip
            repos[-1].update(columns)  # the repository's copies of its analysis columns (hub.0005)
            if rng.random() < 0.02:
                repos[-1]["open_violations"] = 1
                violations.append({
                    "id": len(violations) + 1, "repository_id": i, "rule": "relicensed-derivative", "severity": "error",
                    "message": "derivative relicensed", "evidence_hash": "0" * 64, "status": "open",
                    "first_seen_at": when, "last_seen_at": when,
                })  # fmt: skip
            if len(repos) >= 100_000:
                _flush(raw, repos, commits, analyses)
                print(f"  … {i:,} models loaded ({time.perf_counter() - started:.0f} s)", flush=True)
        _flush(raw, repos, commits, analyses)
        _copy(raw, Violation, violations)
        for table in (
            "hub_namespace",
            "hub_repository",
            "hub_commit",
            "hub_revisionanalysis",
            "licenses_violation",
        ):
            raw.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    print(f"loaded {total:,} models ({n_models:,} public) in {time.perf_counter() - started:.0f} s")


def stem_text(family: str) -> str:
    return {"sd": "Stable Diffusion", "nc": "Research"}.get(family, family.capitalize())


def _flush(raw, repos, commits, analyses) -> None:
    from hub.models import Commit, Repository, RevisionAnalysis

    _copy(raw, Repository, repos)
    _copy(raw, Commit, commits)
    _copy(raw, RevisionAnalysis, analyses)
    repos.clear()
    commits.clear()
    analyses.clear()


def queries(rng: random.Random) -> list[tuple[str, dict]]:
    """(kind, query parameters) — the mix a catalogue sees."""
    out: list[tuple[str, dict]] = []
    for term in [
        "llama",
        "instruct",
        "qwen 7b",
        "mistral gguf",
        "whisper",
        "llama 3.1 8b instruct",
        "stable diffusion",
    ]:
        out.append(("search: common words", {"search": term}))
    for _ in range(6):
        out.append(
            ("search: rare words", {"search": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SIZES)}"})
        )
    for term in ["lla", "inst", "dolph", "qw"]:
        out.append(("search: prefix (type-ahead)", {"search": term}))
    for i in (7, 123, 4567):
        out.append(("search: owner prefix", {"search": f"org{i}-"}))  # finds nothing: owner names differ
    out.append(
        (
            "search + filters",
            {"search": "llama", "license_class": "vendor-community", "commercial": "conditional"},
        )
    )
    out.append(("search + filters", {"search": "instruct", "task": "text-generation", "tmin": "50"}))
    out.append(("search + sort", {"search": "llama", "sort": "downloads"}))
    out.append(("search + sort", {"search": "gguf", "sort": "lastModified"}))
    out.append(("list: default", {}))
    out.append(("list: filters", {"license_class": "noncommercial"}))
    out.append(("list: filters", {"license": "mit", "library": "peft"}))
    out.append(("list: filters", {"violations": "open"}))
    out.append(("list: filters", {"source": "mirrored", "commercial": "yes"}))
    out.append(("list: filters", {"commercial": "no", "sort": "likes"}))
    out.append(("list: filters", {"license_class": "rail", "tmin": "90"}))
    out.append(("list: filters", {"disclosure": "4", "task": "translation"}))
    out.append(("list: filters", {"violations": "open", "sort": "lastModified"}))
    out.append(("list: filters", {"tmax": "5", "sort": "createdAt"}))
    out.append(
        ("search + filters", {"search": "whisper", "license_class": "osi-permissive", "violations": "none"})
    )
    out.append(("list: sorted", {"sort": "lastModified"}))
    out.append(("list: sorted", {"sort": "likes"}))
    out.append(("list: sorted", {"sort": "transparency"}))
    return out


def join_filters(qs, f):
    """The baseline: the analysis and violation filters as they were before ``hub.0005`` (a join per row).

    Everything else (search, task, library, source, policy) goes through the shipped code unchanged.
    """
    from dataclasses import replace

    from django.db.models import Exists, OuterRef, Q

    from licenses.models import Violation

    analysis_free = replace(f, license="", license_class="", commercial="", tmin=None, tmax=None,
                            disclosure=None, violations="")  # fmt: skip
    qs, error = SHIPPED_FILTERS(qs, analysis_free)
    if f.license:
        qs = qs.filter(
            Q(latest_analysis__license_key=f.license)
            | Q(latest_analysis__isnull=True, card_license=f.license)
        )
    for value, lookup in ((f.license_class, "license_class"), (f.commercial, "commercial_use")):
        if value:
            qs = qs.filter(**{f"latest_analysis__{lookup}": value})
    for value, lookup in ((f.tmin, "transparency_score__gte"), (f.tmax, "transparency_score__lte"),
                          (f.disclosure, "disclosure_level__gte")):  # fmt: skip
        if value is not None:
            qs = qs.filter(**{f"latest_analysis__{lookup}": value})
    if f.violations in {"open", "none"}:
        has_open = Exists(Violation.objects.filter(repository=OuterRef("pk"), status=Violation.Status.OPEN))
        qs = qs.filter(has_open if f.violations == "open" else ~has_open)
    return qs, error


SHIPPED_FILTERS = None  # frontend.catalogue.apply_filters, set by ``measure``
BASELINE_KINDS = ("filters",)  # kinds whose name contains one of these are also timed on the baseline


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def split(seed: int) -> None:
    """One request per query of the mix: wall time, this process's CPU time and the SQL time, in ms.

    On a loaded machine wall time is mostly waiting for a CPU; CPU + SQL says what the request costs.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    print(f"\n{'query':60} {'wall':>7} {'cpu':>6} {'sql':>6} {'n sql':>5}")
    for _kind, params in queries(random.Random(seed)):
        target = "/models?" + urlencode(params)
        client.get(target)  # warm
        with CaptureQueriesContext(connection) as ctx:
            t0, c0 = time.perf_counter(), time.process_time()
            client.get(target)
            wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        sql = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        print(f"{urlencode(params)[:60]:60} {wall:7.1f} {cpu:6.1f} {sql:6.1f} {len(ctx.captured_queries):5d}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def measure(repeat: int, seed: int) -> None:
    import re

    from django.core.cache import cache
    from django.test import Client

    from frontend import catalogue, search

    global SHIPPED_FILTERS
    SHIPPED_FILTERS = catalogue.apply_filters
    client = Client()
    rng = random.Random(seed)
    mix = queries(rng)
    # Deep keyset pages: follow "Next" 50 times from the default listing, then time the 51st page.
    url = "/models"
    for _ in range(50):
        html = client.get(url).content.decode()
        url = "/models" + re.search(r'rel="next" href="(\?[^"]+)"', html).group(1).replace("&amp;", "&")
    deep = url
    samples: dict[str, list[float]] = {}
    baseline: dict[str, list[float]] = {}
    loads = []

    def timed(target: str, filters) -> float:
        catalogue.apply_filters = filters
        try:
            t0 = time.perf_counter()
            response = client.get(target)
            elapsed = (time.perf_counter() - t0) * 1000
        finally:
            catalogue.apply_filters = SHIPPED_FILTERS
        assert response.status_code == 200, target
        return elapsed

    for _ in range(2):  # warm caches (PostgreSQL buffers, facet lists) once, as a running server would be
        for kind, params in mix:
            client.get("/models?" + urlencode(params))
            if any(k in kind for k in BASELINE_KINDS):
                timed("/models?" + urlencode(params), join_filters)
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        for kind, params in [*mix, ("list: page 51 (keyset)", {"__url": deep})]:
            target = params.get("__url") or "/models?" + urlencode(params)
            samples.setdefault(kind, []).append(timed(target, SHIPPED_FILTERS))
            if any(k in kind for k in BASELINE_KINDS):
                baseline.setdefault(kind, []).append(timed(target, join_filters))
    everything = [v for values in samples.values() for v in values]
    # Latency on a shared machine depends on what else runs: say how busy it was.
    print(f"\nload average during the run: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs")
    print(
        f"\n{'query kind':32} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   baseline p50/p95, p95 ratio"
    )
    for kind, values in samples.items():
        line = f"{kind:32} {len(values):4d} {statistics.median(values):8.1f} {percentile(values, 95):8.1f} {max(values):8.1f}"
        if kind in baseline:
            old = baseline[kind]
            line += f"   {statistics.median(old):8.1f} {percentile(old, 95):8.1f}  ×{percentile(old, 95) / percentile(values, 95):.1f}"
        print(line)
    searches = [v for k, values in samples.items() if k.startswith("search") for v in values]
    print(
        f"{'ALL searches':32} {len(searches):4d} {statistics.median(searches):8.1f} {percentile(searches, 95):8.1f} {max(searches):8.1f}"
    )
    print(
        f"{'ALL requests':32} {len(everything):4d} {statistics.median(everything):8.1f} {percentile(everything, 95):8.1f} {max(everything):8.1f}"
    )
    print(f"search rank candidates: {search.RANK_CANDIDATES}; cache backend: {cache.__class__.__name__}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--reuse", action="store_true", help="keep the data already loaded")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--split", action="store_true", help="also print CPU and SQL time per query")
    args = parser.parse_args()
    ensure_database(args.pg)
    setup_django(args.pg)
    from django.core.management import call_command
    from django.db import connection

    from frontend import search
    from hub.models import Repository

    call_command("migrate", verbosity=0)
    present = Repository.objects.count()
    if not args.reuse or present == 0:
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE hub_repository, hub_namespace, hub_commit, hub_revisionanalysis, licenses_violation CASCADE"
            )
        load(args.models, args.seed)
    else:
        print(f"reusing {present:,} models")
    t0 = time.perf_counter()
    search.ensure_indexes()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"search index + ANALYZE: {time.perf_counter() - t0:.0f} s")
    measure(args.repeat, args.seed)
    if args.split:
        split(args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

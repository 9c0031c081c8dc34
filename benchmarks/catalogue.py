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
Prints p50/p95/max per query kind and overall, and the machine's load average (latencies on a
busy shared machine are inflated accordingly); target: search p95 < 150 ms.
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
            analyses.append({
                "id": i, "commit_id": i, "status": "done", "license_key": licence, "license_class": cls,
                "commercial_use": commercial, "transparency_score": score, "disclosure_level": rng.randrange(0, 5),
                "result": f'{{"license": {{"key": "{licence}", "class": "{cls}"}}}}', "analysed_at": when,
            })  # fmt: skip
            if rng.random() < 0.02:
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
    out.append(("list: sorted", {"sort": "lastModified"}))
    out.append(("list: sorted", {"sort": "likes"}))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(repeat: int, seed: int) -> None:
    import re

    from django.core.cache import cache
    from django.test import Client

    from frontend import search

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
    for _ in range(2):  # warm caches (PostgreSQL buffers, facet lists) once, as a running server would be
        for _kind, params in mix:
            client.get("/models?" + urlencode(params))
    for _ in range(repeat):
        for kind, params in [*mix, ("list: page 51 (keyset)", {"__url": deep})]:
            target = params.get("__url") or "/models?" + urlencode(params)
            t0 = time.perf_counter()
            response = client.get(target)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, target
            samples.setdefault(kind, []).append(elapsed)
    everything = [v for values in samples.values() for v in values]
    # Latency on a shared machine depends on what else runs: say how busy it was.
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"\n{'query kind':32} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in samples.items():
        print(
            f"{kind:32} {len(values):4d} {statistics.median(values):8.1f} {percentile(values, 95):8.1f} {max(values):8.1f}"
        )
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

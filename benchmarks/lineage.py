"""Lineage benchmark: one million synthetic models through the violation engine.

    .venv/bin/python benchmarks/lineage.py [--models 1000000] [--seed 7] [--pg URL] [--no-pg]
        [--no-engine] [--server 10000] [--server-sample 40] [--chunk 500]

The graph follows the real distributions in ``../shared/corpus`` (read at start-up, with
the published figures as fallback when the corpus is absent):

* relation mix — ``hf-dep-network-edges/edges.csv`` (finetuned / quantized / merged / adapter);
* child licence — from the Mistral-Small-24B tree (``laufer-oderinwale-model-trees``): the
  share of children keeping their parent's licence and the share declaring none; the
  rest are drawn from the PeaTMOSS per-model licence counts (``peatmoss/ptm_licenses.csv``);
* roots — every model of the bundled base-model table with its real licence, plus
  synthetic roots with PeaTMOSS licences; family sizes are Zipf-like, and the largest
  family (rooted at a Llama 3 model) is sized to ~50,000 descendants.

Measured: (a) a full pass of ``evaluate_violations`` over every model, parents resolved
from an in-memory index; (b) the incremental pass after that root's licence changes:
find its descendants with ``LineageGraph`` and re-evaluate only them; (c) floors for (b)'s
walk: a recursive CTE in PostgreSQL over the same edges (temporary schema, dropped at the
end; skipped with a reason when PostgreSQL is unreachable) and a plain Python BFS.
(d) the server path: a family of ``--server`` descendants seeded (bulk inserts, real engine
analyses, blobs in a temporary store) into a scratch PostgreSQL database created next to
``--pg`` and dropped at the end; the real ``reevaluate_descendants`` task (in-process chunks)
timed after the root is relicensed, wall and CPU (this process and its PostgreSQL backend),
against the CTE walk of the same family and the old ``analyze_revision`` path on a sample.
``--no-engine`` skips (a)-(c); ``--server 0`` or ``--no-pg`` skips (d).
Figures only, no assertions. Targets: (a) < 60 s, (b) < 5 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections import Counter, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from licenses.engine.basemodels import BundledBaseModels  # noqa: E402
from licenses.engine.graph import LineageGraph  # noqa: E402
from licenses.engine.kb import default_kb  # noqa: E402
from licenses.engine.lineage import BaseModelRef, ParentRecord  # noqa: E402
from licenses.engine.rules import RuleContext, evaluate_violations  # noqa: E402
from licenses.engine.rules.context import ResolvedParent  # noqa: E402
from licenses.engine.types import LicenseFinding  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
BIG_ROOT = "meta-llama/Meta-Llama-3-8B"
BIG_FAMILY = 50_000
EDGE_TO_RELATION = {
    "finetuned": "finetune",
    "quantized": "quantized",
    "merged": "merge",
    "adapter": "adapter",
}


def relation_mix() -> dict[str, float]:
    path = CORPUS / "hf-dep-network-edges" / "edges.csv"
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            counts = Counter(
                EDGE_TO_RELATION[r["edge"]] for r in csv.DictReader(fh) if r["edge"] in EDGE_TO_RELATION
            )
        source = f"{path.relative_to(CORPUS)} ({sum(counts.values())} edges)"
    else:  # full-file figures from its SOURCE.md
        counts = Counter(finetune=13766, quantized=11746, merge=4577, adapter=294)
        source = "published counts"
    total = sum(counts.values())
    print(
        f"relation mix from {source}: " + ", ".join(f"{k} {v / total:.1%}" for k, v in counts.most_common())
    )
    return {k: v / total for k, v in counts.items()}


def licence_mix(kb) -> tuple[dict[str, float], float, float]:
    """(declared-licence distribution, P(child keeps parent's licence), P(child declares none))."""
    counts: Counter[str] = Counter()
    path = CORPUS / "peatmoss" / "ptm_licenses.csv"
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                key = r["hf_license"].strip()
                counts[key if kb.get(key) is not None else "unknown"] += 1
    else:
        counts.update({"apache-2.0": 858, "mit": 313, "unknown": 65, "cc-by-sa-4.0": 43, "cc-by-nc-4.0": 42})
    keep, none, n = 58 / 66, 4 / 66, 66
    tree = CORPUS / "laufer-oderinwale-model-trees" / "mistral_small_24b_base_2501_tree.jsonl"
    if tree.is_file():
        rows = [json.loads(line) for line in tree.read_text(encoding="utf-8").splitlines()]
        lic = {r["model_id"]: (r["license_tags"] or [None])[0] for r in rows}
        kids = [r for r in rows if r["depth"] > 0]
        parent_of = {
            r["model_id"]: next((t.split(":")[-1] for t in r["base_model_tags"] if t.count(":") == 2), None)
            for r in kids
        }
        same = sum(
            1 for r in kids if lic[r["model_id"]] and lic[r["model_id"]] == lic.get(parent_of[r["model_id"]])
        )
        none = sum(1 for r in kids if not lic[r["model_id"]]) / len(kids)
        keep, n = same / len(kids), len(kids)
    total = sum(counts.values())
    print(
        f"licence mix: {len(counts)} keys from PeaTMOSS ({total} models); children keep the parent's licence "
        f"{keep:.0%}, declare none {none:.0%} (Mistral-Small tree, {n} children)"
    )
    return {k: v / total for k, v in counts.items()}, keep, none


class Synthetic:
    """The graph plus per-node licence keys, in flat lists indexed by graph handle."""

    def __init__(self, n_models: int, seed: int) -> None:
        rng = random.Random(seed)
        kb = default_kb()
        self.kb = kb
        rel_mix = relation_mix()
        lic_mix, p_keep, p_none = licence_mix(kb)
        rel_names, rel_weights = zip(*sorted(rel_mix.items()), strict=True)
        lic_names, lic_weights = zip(*sorted(lic_mix.items()), strict=True)
        t0 = time.perf_counter()
        g = LineageGraph()
        self.graph = g
        self.licence: list[str] = []
        self.parents: list[list[tuple[int, str]]] = []

        def add(model_id: str, key: str) -> int:
            h = g.node(model_id)
            self.licence.append(key)
            self.parents.append([])
            return h

        table = BundledBaseModels.load()
        roots = [add(m.id, m.license_at(None).key) for m in table]
        n_roots = max(len(roots), n_models // 200)
        roots += [
            add(f"root-org/base-{i}", rng.choices(lic_names, lic_weights)[0])
            for i in range(n_roots - len(roots))
        ]
        big = g.node(BIG_ROOT)
        big_family = min(BIG_FAMILY, n_models // 20)
        # Zipf-like family weights; the big family gets a fixed share sized to ~BIG_FAMILY descendants
        weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(roots))]
        families: list[list[int]] = [[r] for r in roots]
        big_index = roots.index(big)
        scale = (1.0 - big_family / n_models) / (sum(weights) - weights[big_index])
        weights = [w * scale for w in weights]
        # cross-family merges make the descendant set ~1.8x the family (measured at 1M): size the family to match
        weights[big_index] = big_family / n_models * 0.55
        cum = []
        acc = 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        rels = rng.choices(rel_names, rel_weights, k=n_models)
        fam_draws = [rng.random() * acc for _ in range(n_models)]
        import bisect

        for i in range(n_models - len(self.licence)):
            fam = families[bisect.bisect_left(cum, fam_draws[i])]
            relation = rels[i]
            parent = fam[int(len(fam) * rng.random() ** 2)]  # favour early (popular, shallow) members
            ps = [parent]
            if relation == "merge":
                other = families[bisect.bisect_left(cum, rng.random() * acc)]
                second = other[int(len(other) * rng.random() ** 2)]
                if second != parent:
                    ps.append(second)
            r = rng.random()
            if r < p_keep:
                key = self.licence[parent]
            elif r < p_keep + p_none:
                key = "none"
            else:
                key = rng.choices(lic_names, lic_weights)[0]
            child = add(f"user-{i % 50_000}/model-{i}", key)
            for p in ps:
                g.add_edge(g.id_of(child), g.id_of(p), relation)
                self.parents[child].append((p, relation))
            fam.append(child)
        self.big = big
        print(
            f"graph: {len(g):,} models, {sum(len(p) for p in self.parents):,} edges, {len(roots):,} roots; "
            f"built in {time.perf_counter() - t0:.1f} s"
        )
        self._findings: dict[str, LicenseFinding] = {}
        self._meta: dict[str, dict] = {}

    def finding(self, key: str) -> LicenseFinding:
        f = self._findings.get(key)
        if f is None:
            info = self.kb.get(key)
            f = LicenseFinding(
                key=key,
                license_class=info.license_class if info else "unknown",
                spdx=info.spdx if info else None,
                commercial_use=info.commercial_use if info else "unknown",
                confidence=1.0,
            )
            self._findings[key] = f
            self._meta[key] = {"license": key} if key != "none" else {}
        return f

    def context(self, h: int) -> RuleContext:
        """A rule context for one model, parents resolved from the in-memory index."""
        g = self.graph
        key = self.licence[h]
        parents = []
        for p, relation in self.parents[h]:
            pid = g.id_of(p)
            pkey = self.licence[p]
            record = ParentRecord(pid, pkey, None, "local")
            parents.append(ResolvedParent(BaseModelRef(pid, relation, False), record, self.kb.get(pkey)))
        mid = g.id_of(h)
        finding = self.finding(key)
        return RuleContext(
            child_id=mid,
            child_name=mid.rsplit("/", 1)[-1],
            license=finding,
            metadata=self._meta[key],
            texts={},
            files={},
            parents=parents,
            kb=self.kb,
        )


def full_pass(syn: Synthetic) -> tuple[float, float, Counter]:
    """Wall and CPU seconds (CPU shows the cost when the machine is shared)."""
    counts: Counter[str] = Counter()
    t0, c0 = time.perf_counter(), time.process_time()
    for h in range(len(syn.licence)):
        for v in evaluate_violations(syn.context(h)):
            counts[v.rule] += 1
    return time.perf_counter() - t0, time.process_time() - c0, counts


def incremental(syn: Synthetic, new_key: str) -> tuple[float, float, float, int, Counter]:
    """(wall seconds, CPU seconds, walk seconds, descendants, findings) for one root change."""
    t0, c0 = time.perf_counter(), time.process_time()
    syn.licence[syn.big] = new_key
    affected = syn.graph.descendant_handles(syn.big)
    t_walk = time.perf_counter() - t0
    counts: Counter[str] = Counter()
    for h in affected:
        for v in evaluate_violations(syn.context(h)):
            counts[v.rule] += 1
    return time.perf_counter() - t0, time.process_time() - c0, t_walk, len(affected), counts


def python_bfs(syn: Synthetic) -> tuple[float, int]:
    children: dict[int, list[int]] = {}
    for c, ps in enumerate(syn.parents):
        for p, _ in ps:
            children.setdefault(p, []).append(c)
    t0 = time.perf_counter()
    seen = {syn.big}
    queue = deque([syn.big])
    while queue:
        for nxt in children.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return time.perf_counter() - t0, len(seen) - 1


def postgres_cte(syn: Synthetic, url: str) -> tuple[float, float, int] | str:
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed"
    try:
        conn = psycopg.connect(url, connect_timeout=3, autocommit=True)
    except Exception as exc:
        return f"PostgreSQL unreachable at {url}: {exc}".splitlines()[0]
    schema = f"lineage_bench_{int(time.time())}"
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE SCHEMA {schema}")
            cur.execute(
                f"CREATE UNLOGGED TABLE {schema}.edge (child integer NOT NULL, parent integer NOT NULL)"
            )
            t0 = time.perf_counter()
            with cur.copy(f"COPY {schema}.edge (child, parent) FROM STDIN") as cp:
                for c, ps in enumerate(syn.parents):
                    for p, _ in ps:
                        cp.write_row((c, p))
            cur.execute(f"CREATE INDEX ON {schema}.edge (parent)")
            cur.execute(f"ANALYZE {schema}.edge")
            t_load = time.perf_counter() - t0
            sql = f"""
                WITH RECURSIVE d(id) AS (
                    SELECT child FROM {schema}.edge WHERE parent = %(root)s
                    UNION
                    SELECT e.child FROM {schema}.edge e JOIN d ON e.parent = d.id
                )
                SELECT count(*) FROM d"""
            cur.execute(sql, {"root": syn.big})  # warm the cache once
            t0 = time.perf_counter()
            cur.execute(sql, {"root": syn.big})
            n = cur.fetchone()[0]
            return time.perf_counter() - t0, t_load, n
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.close()


# --- the server path: batched rules-only re-evaluation against PostgreSQL ----------------------------

SERVER_ROOT = "bench-lab/base-8b"


def _scratch_database(url: str) -> tuple[str, str]:
    """Create an empty database next to ``url``'s; returns (its URL, its name). Dropped by the caller."""
    import psycopg

    name = f"lineage_bench_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name, name


def _drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _server_card(key: str | None, parents: list[str], relation: str, name: str, rng: random.Random) -> str:
    """A synthetic model card: front matter like the Hub's, a short body that varies per model."""
    lines = ["---"]
    if key:
        lines.append(f"license: {key}")
    if len(parents) == 1:
        lines.append(f"base_model: {parents[0]}")
    else:
        lines += ["base_model:", *(f"- {p}" for p in parents)]
    if rng.random() < 0.5:
        lines.append(f"base_model_relation: {relation}")
    lines += ["tags:", "- text-generation", f"- {relation}", "---", f"# {name}", ""]
    body = [
        f"{name} is a {relation} of {parents[0]} for chat.",
        "Built with Llama." if rng.random() < 0.3 else "Evaluated on common benchmarks.",
        f"Trained for {rng.randint(1, 5)} epochs at learning rate {rng.choice(['1e-5', '2e-5', '5e-5'])}.",
    ]
    return "\n".join(lines + body) + "\n"


def _pg_backend_cpu(cursor) -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when its /proc entry is readable."""
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_path(url: str, n_desc: int, seed: int, sample: int, chunk_size: int) -> None:
    """Seed a family of ``n_desc`` descendants in a scratch database and time its re-evaluation."""
    import io
    import tempfile

    try:
        db_url, db_name = _scratch_database(url)
    except Exception as exc:
        print(f"(d) server path: skipped — PostgreSQL unavailable at {url}: {exc}".splitlines()[0])
        return
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("MODELHUB_VAR", tempfile.mkdtemp(prefix="lineage-bench-var-"))
    os.environ["MODELHUB_TASKS_EAGER"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    try:
        call_command("migrate", verbosity=0)
        _server_run(n_desc, seed, sample, chunk_size, io, timezone, connection)
    finally:
        connections.close_all()
        _drop_database(url, db_name)


def _server_run(n_desc, seed, sample, chunk_size, io, timezone, connection) -> None:
    import hashlib
    from datetime import timedelta

    from hub.blobstore import get_blob_store
    from hub.models import Blob, Commit, Namespace, RepoFile, Repository, RevisionAnalysis
    from hub.signals import revision_analysed
    from hub.tasks import analyze_revision
    from licenses.engine.analyze import analyze_snapshot
    from licenses.engine.types import RepoSnapshot
    from licenses.receivers import on_revision_analysed
    from licenses.services.lineage import descendant_heads, descendants
    from licenses.tasks import reevaluate_descendants

    rng = random.Random(seed)
    kb = default_kb()
    lic_mix, p_keep, p_none = licence_mix(kb)
    lic_names, lic_weights = zip(*sorted(lic_mix.items()), strict=True)
    rel_mix = relation_mix()
    rel_names, rel_weights = zip(*sorted(rel_mix.items()), strict=True)
    store = get_blob_store()
    now = timezone.now()
    t0, c0 = time.perf_counter(), time.process_time()

    # the family: 70 % children of the root, 25 % grandchildren, 5 % great-grandchildren
    nodes: list[tuple[str, str | None, list[str], str]] = []  # id, licence, parents, relation
    licence_of = {SERVER_ROOT: "llama3"}
    by_depth: dict[int, list[str]] = {0: [SERVER_ROOT]}
    for i in range(n_desc):
        r = rng.random()
        depth = 1 if r < 0.70 or not by_depth.get(1) else (2 if r < 0.95 or not by_depth.get(2) else 3)
        relation = rng.choices(rel_names, rel_weights)[0]
        parent = rng.choice(by_depth[depth - 1])
        parents = [parent]
        if relation == "merge":
            parents.append(rng.choice(by_depth[max(depth - 1, 1)] if depth > 1 else [SERVER_ROOT]))
            parents = list(dict.fromkeys(parents))
        u = rng.random()
        key = (
            licence_of[parent]
            if u < p_keep
            else (None if u < p_keep + p_none else rng.choices(lic_names, lic_weights)[0])
        )
        key = None if key == "unknown" else key
        model_id = f"org-{i % 997}/model-{i}-{relation}"
        licence_of[model_id] = key or "none"
        by_depth.setdefault(depth, []).append(model_id)
        nodes.append((model_id, key, parents, relation))

    owners = sorted({SERVER_ROOT.split("/")[0]} | {m.split("/")[0] for m, *_ in nodes})
    Namespace.objects.bulk_create([Namespace(name=o, kind=Namespace.Kind.ORG) for o in owners])
    ns = dict(Namespace.objects.values_list("name", "id"))
    blobs: dict[str, int] = {}

    def put(content: bytes) -> tuple[str, int]:
        sha = hashlib.sha256(content).hexdigest()
        if sha not in blobs:
            store.put(io.BytesIO(content), expected_sha256=sha)
            blobs[sha] = len(content)
        return sha, len(content)

    def files_for(readme: str, relation: str) -> dict[str, bytes]:
        files = {"README.md": readme.encode()}
        if relation == "quantized":
            files["config.json"] = json.dumps(
                {"quantization_config": {"quant_method": "gptq", "bits": 4}}
            ).encode()
        elif relation == "adapter":
            files["adapter_config.json"] = json.dumps({"peft_type": "LORA", "r": 16}).encode()
        else:
            files["config.json"] = json.dumps({"architectures": ["LlamaForCausalLM"]}).encode()
        return files

    root_card = "---\nlicense: llama3\ntags:\n- text-generation\n---\n# base-8b\n\nA base model.\n"
    specs = [(SERVER_ROOT, root_card, "finetune", now - timedelta(minutes=60))]
    specs += [
        (m, _server_card(k, ps, rel, m.split("/")[1], rng), rel, now - timedelta(minutes=30))
        for m, k, ps, rel in nodes
    ]
    repos = Repository.objects.bulk_create(
        [Repository(namespace_id=ns[m.split("/")[0]], name=m.split("/")[1]) for m, *_ in specs],
        batch_size=2000,
    )
    commits = Commit.objects.bulk_create(
        [
            Commit(repository=r, sha=hashlib.sha1(m.encode()).hexdigest(), title="initial", created_at=at)
            for r, (m, _, _, at) in zip(repos, specs, strict=True)
        ],
        batch_size=2000,
    )
    file_rows, analyses = [], []
    for repo, commit, (model_id, readme, relation, at) in zip(repos, commits, specs, strict=True):
        files = files_for(readme, relation)
        for path, content in files.items():
            sha, size = put(content)
            file_rows.append(
                RepoFile(commit=commit, path=path, size=size, oid=sha[:40], sha256=sha, blob_id=sha)
            )
        snapshot = RepoSnapshot(
            id=model_id,
            files={p: len(c) for p, c in files.items()},
            texts={p: c.decode() for p, c in files.items()},
            created_at=repo.created_at,
            last_modified=at,
            sha=commit.sha,
        )
        result = analyze_snapshot(snapshot, resolver=None)  # parents judged by the first re-evaluation below
        result["files"] = []
        lic = result["license"]
        analyses.append(
            RevisionAnalysis(
                commit=commit, status=RevisionAnalysis.Status.DONE, result=result, license_key=lic["key"],
                license_class=lic["class"], commercial_use=lic["commercial_use"], analysed_at=now,
            )
        )  # fmt: skip
    Blob.objects.bulk_create([Blob(sha256=s, size=n) for s, n in blobs.items()], batch_size=2000)
    RepoFile.objects.bulk_create(file_rows, batch_size=2000)
    RevisionAnalysis.objects.bulk_create(analyses, batch_size=1000)
    for repo, commit, analysis in zip(repos, commits, analyses, strict=True):
        repo.head, repo.latest_analysis = commit, analysis
    Repository.objects.bulk_update(repos, ["head", "latest_analysis"], batch_size=2000)
    from licenses.services.lineage import record_lineage_many

    record_lineage_many(
        (repo, [{"id": p, "relation": rel} for p in ps])
        for repo, (_, _, ps, rel) in zip(repos[1:], nodes, strict=True)
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(
        f"(d) server path, PostgreSQL scratch database: seeded {n_desc:,} descendants of {SERVER_ROOT} "
        f"(repos, commits, {len(file_rows):,} files, analyses, edges) in {time.perf_counter() - t0:.0f} s "
        f"wall, {time.process_time() - c0:.0f} s CPU"
    )

    def timed(fn, *args):
        with connection.cursor() as cur:
            pg0 = _pg_backend_cpu(cur)
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args)
        w, c = time.perf_counter() - w, time.process_time() - c
        with connection.cursor() as cur:
            pg1 = _pg_backend_cpu(cur)
        return out, w, c, (pg1 - pg0 if pg0 is not None and pg1 is not None else None)

    def show(label, n, w, c, pg):
        pg_note = f", PostgreSQL backend {pg:.1f} s CPU" if pg is not None else ""
        print(
            f"    {label}: {n:,} in {w:.1f} s wall, {c:.1f} s CPU{pg_note} ({w / max(n, 1) * 1000:.2f} ms/descendant)"
        )

    descendants(SERVER_ROOT)  # warm the cache once
    walked, t_walk, _, _ = timed(descendants, SERVER_ROOT)
    heads, t_heads, _, _ = timed(descendant_heads, SERVER_ROOT)
    print(
        f"    CTE walk: {len(walked):,} descendants in {t_walk * 1000:.0f} ms; with their heads {t_heads * 1000:.0f} ms"
    )
    n, w0, c0, pg0 = timed(reevaluate_descendants, SERVER_ROOT, chunk_size)
    show(f"first evaluation (chunks of {chunk_size})", n, w0, c0, pg0)
    from licenses.models import Violation

    before = _open_counts(Violation)

    # relicense the root: a new head whose analysis says Apache-2.0
    root = repos[0]
    card = root_card.replace("license: llama3", "license: apache-2.0")
    sha, size = put(card.encode())
    Blob.objects.get_or_create(sha256=sha, defaults={"size": size})
    new = Commit.objects.create(
        repository=root, sha="f" * 40, title="relicense", created_at=now - timedelta(minutes=20)
    )
    RepoFile.objects.create(commit=new, path="README.md", size=size, oid=sha[:40], sha256=sha, blob_id=sha)
    Repository.objects.filter(pk=root.pk).update(head=new)
    # analysed without the receiver, so that the re-evaluation it would start is timed on its own below
    revision_analysed.disconnect(dispatch_uid="licenses.on_revision_analysed")
    try:
        analyze_revision.run(new.pk)
    finally:
        revision_analysed.connect(on_revision_analysed, dispatch_uid="licenses.on_revision_analysed")
    root.refresh_from_db()
    print(f"    root relicensed: its head analysis now says {root.latest_analysis.license_key}")
    n, w, c, pg = timed(reevaluate_descendants, SERVER_ROOT, chunk_size)
    show("after the root is relicensed llama3 -> apache-2.0", n, w, c, pg)
    after = _open_counts(Violation)
    print("    open violations before: " + ", ".join(f"{k} {v:,}" for k, v in sorted(before.items())))
    print("    open violations after:  " + ", ".join(f"{k} {v:,}" for k, v in sorted(after.items())))
    n2, w2, c2, pg2 = timed(reevaluate_descendants, SERVER_ROOT, chunk_size)
    show("re-run, nothing changed", n2, w2, c2, pg2)

    picked = rng.sample([h.head_id for h in heads], min(sample, len(heads)))
    _, wo, co, pgo = timed(lambda ids: [analyze_revision.run(i) for i in ids], picked)
    show("old path, analyze_revision per descendant (sample)", len(picked), wo, co, pgo)
    per_new, per_old = w / n, wo / len(picked)
    print("ratios:")
    print(f"    batched re-evaluation / CTE walk          {w / t_walk:.0f}")
    print(f"    old per-descendant path / batched         {per_old / per_new:.1f} (per descendant, wall)")
    print(
        f"    projection for 58,030 descendants: batched {per_new * 58_030:.0f} s wall on one worker, "
        f"old path {per_old * 58_030 / 60:.0f} min"
    )


def _open_counts(violation_model) -> dict[str, int]:
    from django.db.models import Count

    rows = violation_model.objects.filter(status="open").values("rule").annotate(n=Count("id"))
    return {r["rule"]: r["n"] for r in rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-engine", action="store_true", help="skip (a)-(c), the 1M-model engine path")
    ap.add_argument("--server", type=int, default=10_000, help="descendants seeded for (d); 0 skips it")
    ap.add_argument("--server-sample", type=int, default=40, help="descendants re-analysed the old way")
    ap.add_argument("--chunk", type=int, default=500, help="descendants per re-evaluation task")
    args = ap.parse_args(argv)
    if not args.no_engine:
        engine_path(args)
    if args.server and not args.no_pg:
        server_path(args.pg, args.server, args.seed, args.server_sample, args.chunk)


def engine_path(args: argparse.Namespace) -> None:
    """(a)-(c): the pure engine over one million synthetic models, and the walk floors."""
    syn = Synthetic(args.models, args.seed)
    t_full, cpu_full, counts = full_pass(syn)
    n = len(syn.licence)
    print(
        f"(a) full pass: {n:,} models in {t_full:.1f} s wall, {cpu_full:.1f} s CPU "
        f"({t_full / n * 1e6:.1f} µs/model; target < 60 s)"
    )
    print("    findings: " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common()))
    old = syn.licence[syn.big]
    t_inc, cpu_inc, t_walk, n_desc, inc_counts = incremental(syn, "apache-2.0")
    print(
        f"(b) incremental after {BIG_ROOT} {old} -> apache-2.0: {n_desc:,} descendants found in "
        f"{t_walk * 1000:.0f} ms, re-evaluated in {t_inc:.2f} s wall, {cpu_inc:.2f} s CPU total (target < 5 s)"
    )
    print("    findings now: " + ", ".join(f"{k} {v:,}" for k, v in inc_counts.most_common()))
    t_bfs, n_bfs = python_bfs(syn)
    print(f"(c) floor, plain Python BFS: {n_bfs:,} descendants in {t_bfs * 1000:.0f} ms")
    if args.no_pg:
        print("(c) floor, PostgreSQL recursive CTE: skipped (--no-pg)")
        pg = None
    else:
        pg = postgres_cte(syn, args.pg)
        if isinstance(pg, str):
            print(f"(c) floor, PostgreSQL recursive CTE: skipped — {pg}")
            pg = None
        else:
            t_cte, t_load, n_cte = pg
            print(
                f"(c) floor, PostgreSQL recursive CTE: {n_cte:,} descendants in {t_cte * 1000:.0f} ms "
                f"(COPY + index of the edges: {t_load:.1f} s)"
            )
    print("ratios:")
    print(f"    incremental / full pass          {t_inc / t_full:.4f}")
    print(f"    LineageGraph walk / Python BFS   {t_walk / t_bfs:.2f}")
    print(f"    incremental / Python BFS         {t_inc / t_bfs:.1f}")
    if pg:
        print(f"    LineageGraph walk / PG CTE       {t_walk / pg[0]:.2f}")
        print(f"    incremental / PG CTE             {t_inc / pg[0]:.1f}")


if __name__ == "__main__":
    main()

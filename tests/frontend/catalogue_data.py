"""Fixture data for the catalogue tests, built through the ORM like the hub would store it.

A small but realistic registry: a Llama 3.1 family with a relicensed derivative (open
violations), a Mistral base with a quantized copy, a non-commercial model with an unsafe
pickle, RAIL and unknown-licence models, a private model of the ``acme`` organisation, a
model whose card carries XSS payloads, and enough filler models to need a second page.
Analysis results follow the contract's analyze JSON; READMEs live in the real blob store.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

import yaml
from django.contrib.auth import get_user_model
from django.utils import timezone

from hub.blobstore import get_blob_store
from hub.models import (
    Blob,
    Commit,
    FileScan,
    Namespace,
    OrgMembership,
    Ref,
    RepoFile,
    Repository,
    RevisionAnalysis,
    git_blob_sha1,
)
from licenses.engine.kb import DATA_DIR, default_kb
from licenses.models import LineageEdge, Policy, PolicyVersion, Violation, ViolationEvent
from licenses.services.violations import refresh_open_violations
from workers.models import MirrorRun, MirrorSpec

PASSWORD = "correct horse battery staple"

XSS_CARD = """---
license: mit
---
# XSS demo

Totally normal model.<script>window.__xss = 1; document.title = "pwned"</script>

<img src="x" onerror="window.__xss = 2">

<a href="javascript:window.__xss=3">click me</a> and [a markdown link](javascript:window.__xss=4)

<div onmouseover="window.__xss = 5" style="position:fixed;inset:0">hover</div>

<iframe src="https://evil.example/"></iframe>

[safe link](https://example.org/docs)
"""


@cache
def _indicators() -> list[dict]:
    data = yaml.safe_load((DATA_DIR / "transparency_indicators.yaml").read_text())
    return data["indicators"]


def transparency(met_share: float, seed: int) -> dict:
    """A transparency block with about ``met_share`` of the indicators met, deterministically."""
    out = []
    for i, ind in enumerate(_indicators()):
        met = ((i * 7 + seed * 13) % 100) / 100 < met_share
        out.append({
            "id": ind["id"], "fmti_id": ind.get("fmti_id"), "name": ind["name"], "met": met,
            "evidence": f"card section mentions {ind['name'].lower()}" if met else "",
        })  # fmt: skip
    score = round(100 * sum(i["met"] for i in out) / len(out), 1)
    return {"score": score, "indicators": out}


def openness(spec: ModelSpecData) -> dict:
    """The analysis' openness block: OSAI-style dimensions and Model Openness Framework components."""
    rating = "open" if spec.met_share > 0.5 else "partial"
    return {
        "dimensions": [
            {"dimension": "weights_endmodel", "name": "End User Model Weights", "category": "Availability",
             "rating": "open", "evidence": "2 weight file(s)", "observable": True},
            {"dimension": "trainingcode", "name": "Training Code", "category": "Availability", "rating": "closed",
             "evidence": None, "observable": True},
            {"dimension": "modelcard", "name": "Modelcard", "category": "Documentation", "rating": rating,
             "evidence": "covers architecture, training", "observable": True},
        ],
        "openness_pct": 50.0 if rating == "open" else 33.3,
        "mof": {"class": None, "label": "Unclassified", "progress": {"class3": 66.7, "class2": 0.0, "class1": 0.0},
                "components": [{"component": "Model parameters (Final)", "content_type": "data", "class": 3,
                                "included": True, "evidence": "safetensors", "license": spec.license_key,
                                "license_open": True}]},
    }  # fmt: skip


@dataclass
class ModelSpecData:
    owner: str
    name: str
    license_key: str
    card: str = ""
    private: bool = False
    parents: list[tuple[str, str]] = field(default_factory=list)  # (parent id, relation)
    met_share: float = 0.5
    disclosure: int = 1
    datasets: list[str] = field(default_factory=list)
    task: str = "text-generation"
    library: str = "transformers"
    downloads: int = 0
    mirrored: bool = False
    violations: list[dict] = field(default_factory=list)
    files: list[tuple[str, int]] = field(default_factory=list)
    unsafe_pickle: bool = False
    description: str = ""


@dataclass
class Catalogue:
    alice: object  # member (write) of acme
    bob: object  # no organisation
    repos: dict[str, Repository]
    violations: dict[str, Violation]


def _store(content: bytes) -> Blob:
    info = get_blob_store().put(io.BytesIO(content), expected_sha256=hashlib.sha256(content).hexdigest())
    blob, _ = Blob.objects.get_or_create(sha256=info.sha256, defaults={"size": info.size})
    return blob


def _fake_blob(label: str, size: int) -> Blob:
    """A Blob row for a large weight file without writing gigabytes (the page only lists it)."""
    sha = hashlib.sha256(label.encode()).hexdigest()
    blob, _ = Blob.objects.get_or_create(sha256=sha, defaults={"size": size})
    return blob


def _card(spec: ModelSpecData) -> str:
    if spec.card:
        return spec.card
    front = {"license": spec.license_key, "pipeline_tag": spec.task, "library_name": spec.library}
    if spec.parents:
        front["base_model"] = [p for p, _ in spec.parents]
        front["base_model_relation"] = spec.parents[0][1]
    if spec.datasets:
        front["datasets"] = spec.datasets
    return (
        "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n"
        f"# {spec.name}\n\n{spec.description or 'A model for tests.'}\n\n"
        "## Training data\n\nTrained on 2T tokens of public web text collected in 2023.\n\n"
        "## Limitations\n\nMay produce wrong answers. | col | val |\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )


def make_model(spec: ModelSpecData, when) -> Repository:
    kb = default_kb()
    info = kb.get(spec.license_key)
    ns, _ = Namespace.objects.get_or_create(name=spec.owner, defaults={"kind": Namespace.Kind.ORG})
    repo = Repository.objects.create(
        namespace=ns, name=spec.name, private=spec.private, card_license=spec.license_key,
        pipeline_tag=spec.task, library_name=spec.library, downloads=spec.downloads, likes=spec.downloads // 100,
        last_modified=when, created_at=when, description=spec.description,
        mirrored_from=f"https://huggingface.co/{spec.owner}/{spec.name}" if spec.mirrored else "",
        upstream_id=f"{spec.owner}/{spec.name}" if spec.mirrored else "",
        mirror_status=Repository.MirrorStatus.OK if spec.mirrored else "",
    )  # fmt: skip
    sha = hashlib.sha1(f"{spec.owner}/{spec.name}".encode()).hexdigest()
    first = Commit.objects.create(repository=repo, sha=hashlib.sha1(sha.encode()).hexdigest(),
                                  title="Initial commit", created_at=when - timedelta(days=3))  # fmt: skip
    commit = Commit.objects.create(
        repository=repo, sha=sha, parent=first, title="Update model card", created_at=when
    )
    Ref.objects.create(repository=repo, name="main", commit=commit)
    Ref.objects.create(repository=repo, kind=Ref.Kind.TAG, name="v1.0", commit=first)
    readme = _card(spec).encode()
    files = [("README.md", _store(readme), len(readme), False, git_blob_sha1(readme))]
    config = b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}'
    files.append(("config.json", _store(config), len(config), False, git_blob_sha1(config)))
    weights = spec.files or [
        ("model-00001-of-00002.safetensors", 4_976_698_672),
        ("model-00002-of-00002.safetensors", 1_168_138_808),
    ]
    if spec.unsafe_pickle:
        weights = [*weights, ("pytorch_model.bin", 2_200_000_000)]
    for path, size in weights:
        blob = _fake_blob(f"{repo.pk}/{path}", size)
        files.append((path, blob, size, True, git_blob_sha1(path.encode())))
    for c in (first, commit):
        RepoFile.objects.bulk_create(
            RepoFile(commit=c, path=p, size=s, lfs=lfs, oid=oid, sha256=b.sha256, blob=b)
            for p, b, s, lfs, oid in files
        )
    for path, size in weights:
        pickle = path.endswith(".bin")
        FileScan.objects.create(
            commit=commit, path=path, file_format="pickle" if pickle else "safetensors", scanner="test",
            contains_pickle=pickle, dangerous_imports=["os.system"] if pickle else [],
            parameter_count=None if pickle else size // 2,
        )  # fmt: skip
    lic_class = info.license_class if info else "unknown"
    commercial = info.commercial_use if info else "unknown"
    result = {
        "id": f"{spec.owner}/{spec.name}",
        "license": {
            "key": spec.license_key if info else "unknown", "class": lic_class, "spdx": info.spdx if info else None,
            "commercial_use": commercial, "confidence": 0.95 if info else 0.2,
            "evidence": [{"source": "metadata", "detail": f"license: {spec.license_key}"},
                         {"source": "file:LICENSE", "detail": f"text matches {info.name if info else 'nothing known'}"}],
            "conflicts": [],
        },
        "lineage": {"base_models": [{"id": p, "relation": r, "license_key": None} for p, r in spec.parents]},
        "data": {"datasets": spec.datasets, "disclosure_level": spec.disclosure},
        "transparency": transparency(spec.met_share, repo.pk),
        "openness": openness(spec),
        "violations": spec.violations,
    }  # fmt: skip
    analysis = RevisionAnalysis.objects.create(
        commit=commit, status=RevisionAnalysis.Status.DONE, result=result,
        license_key=result["license"]["key"], license_class=lic_class, commercial_use=commercial,
        transparency_score=result["transparency"]["score"], disclosure_level=spec.disclosure,
        n_errors=sum(1 for v in spec.violations if v["severity"] == "error"),
        n_warnings=sum(1 for v in spec.violations if v["severity"] == "warning"),
        unsafe_files=1 if spec.unsafe_pickle else 0, analysed_at=when,
    )  # fmt: skip
    repo.head, repo.latest_analysis = commit, analysis
    repo.save(update_fields=["head", "latest_analysis"])
    return repo


def _violation(repo: Repository, v: dict, when) -> Violation:
    row = Violation.objects.create(
        repository=repo, rule=v["rule"], severity=v["severity"], parent_ref=(v.get("parent") or "").lower(),
        message=v["message"], clause=v.get("clause") or "", evidence=v.get("evidence") or [],
        evidence_hash=hashlib.sha256(v["message"].encode()).hexdigest(), first_seen_at=when, last_seen_at=when,
    )  # fmt: skip
    ViolationEvent.objects.create(
        violation=row, action=ViolationEvent.Action.OPENED, to_status="open", at=when
    )
    return row


LLAMA_VIOLATIONS = [
    {"rule": "relicensed-derivative", "severity": "error", "parent": "meta-llama/Llama-3.1-8B-Instruct",
     "message": "Finetune of a Llama 3.1 model declares apache-2.0; the Llama 3.1 licence does not allow relicensing.",
     "clause": "§1.b.i", "evidence": [{"source": "metadata", "detail": "license: apache-2.0"},
                                      {"source": "metadata", "detail": "base_model: meta-llama/Llama-3.1-8B-Instruct"}]},
    {"rule": "naming-requirement", "severity": "error", "parent": "meta-llama/Llama-3.1-8B-Instruct",
     "message": "A Llama 3.1 derivative's name must begin with “Llama”; this one is “support-bot-8b”.",
     "clause": "§1.b.i", "evidence": [{"source": "metadata", "detail": "name: support-bot-8b"}]},
    {"rule": "missing-notice", "severity": "warning", "parent": "meta-llama/Llama-3.1-8B-Instruct",
     "message": "The repository lacks the “Built with Llama” notice its parent's licence requires.",
     "clause": "§1.b.i", "evidence": [{"source": "body", "detail": "no “Built with Llama” in README.md"}]},
]  # fmt: skip


def build_catalogue(fillers: int = 34) -> Catalogue:
    User = get_user_model()
    alice = User.objects.create_user("alice", "alice@example.org", PASSWORD)
    bob = User.objects.create_user("bob", "bob@example.org", PASSWORD)
    acme, _ = Namespace.objects.get_or_create(name="acme", defaults={"kind": Namespace.Kind.ORG})
    OrgMembership.objects.create(org=acme, user=alice, role=OrgMembership.Role.WRITE)
    now = timezone.now()
    specs = [
        ModelSpecData("meta-llama", "Llama-3.1-8B", "llama3.1", met_share=0.7, disclosure=1, downloads=5_400_000,
                      mirrored=True, description="Meta's Llama 3.1 base model, 8B parameters."),
        ModelSpecData("meta-llama", "Llama-3.1-8B-Instruct", "llama3.1", parents=[("meta-llama/Llama-3.1-8B", "finetune")],
                      met_share=0.65, downloads=4_100_000, mirrored=True, description="Instruction-tuned Llama 3.1."),
        ModelSpecData("acme", "support-bot-8b", "apache-2.0", parents=[("meta-llama/Llama-3.1-8B-Instruct", "finetune")],
                      met_share=0.3, downloads=1_200, violations=LLAMA_VIOLATIONS, datasets=["acme/support-tickets"],
                      description="Customer-support assistant fine-tuned from Llama 3.1."),
        ModelSpecData("acme", "internal-secret-model", "apache-2.0", private=True, downloads=10,
                      description="Private experiment of the acme organisation."),
        ModelSpecData("mistralai", "Mistral-7B-v0.1", "apache-2.0", met_share=0.45, downloads=2_300_000, mirrored=True,
                      library="transformers", description="Mistral 7B base model."),
        ModelSpecData("community", "mistral-7b-gguf", "apache-2.0", parents=[("mistralai/Mistral-7B-v0.1", "quantized")],
                      met_share=0.2, downloads=90_000, library="gguf", files=[("mistral-7b.Q4_K_M.gguf", 4_368_439_584)],
                      description="GGUF quantisation of Mistral 7B."),
        ModelSpecData("research-lab", "nc-vision-model", "cc-by-nc-4.0", met_share=0.35, downloads=15_000,
                      task="image-classification", library="timm", unsafe_pickle=True, disclosure=3,
                      datasets=["imagenet-1k"], description="Vision classifier for research use.",
                      violations=[{"rule": "unsafe-serialization", "severity": "error", "parent": None,
                                   "message": "pytorch_model.bin imports os.system when unpickled.", "clause": None,
                                   "evidence": [{"source": "file:pytorch_model.bin", "detail": "GLOBAL os.system"}]}]),
        ModelSpecData("artists", "sd-style-finetune", "creativeml-openrail-m", met_share=0.25, downloads=40_000,
                      task="text-to-image", library="diffusers", description="Stable Diffusion style finetune."),
        ModelSpecData("bigcode", "starcoder-mini", "bigcode-openrail-m", met_share=0.55, downloads=300_000,
                      task="text-generation", description="Small code model."),
        ModelSpecData("someone", "no-license-model", "none", met_share=0.1, downloads=50, disclosure=0,
                      violations=[{"rule": "missing-license", "severity": "error", "parent": None,
                                   "message": "No licence in the card metadata and no LICENSE file.", "clause": None,
                                   "evidence": [{"source": "metadata", "detail": "no license field"}]}]),
        ModelSpecData("community", "xss-demo", "mit", card=XSS_CARD, downloads=5, description="Card with XSS payloads."),
    ]  # fmt: skip
    for i in range(fillers):
        specs.append(
            ModelSpecData("community", f"tiny-model-{i:02d}", "mit" if i % 2 else "apache-2.0", met_share=(i % 10) / 10,
                          downloads=100 + i, task="fill-mask", library="transformers", description="Tiny filler model.")
        )  # fmt: skip
    repos: dict[str, Repository] = {}
    violations: dict[str, Violation] = {}
    for i, spec in enumerate(specs):
        when = now - timedelta(days=i * 3)
        repo = make_model(spec, when)
        repos[repo.repo_id] = repo
        for v in spec.violations:
            violations[f"{repo.repo_id}:{v['rule']}"] = _violation(repo, v, when)
        for parent, relation in spec.parents:
            parent_repo = repos.get(parent)
            pa = parent_repo.latest_analysis if parent_repo else None
            LineageEdge.objects.create(
                child=repo, child_ref=repo.repo_id.lower(), parent_ref=parent.lower(), parent_display=parent,
                relation=relation, parent_license_key=pa.license_key if pa else "",
                parent_license_class=pa.license_class if pa else "", source=LineageEdge.Source.REGISTRY,
            )  # fmt: skip
    # the rows above were written directly, not through the violation service: recount as it would
    refresh_open_violations(r.pk for r in repos.values())
    policy = Policy.objects.create(name="commercial-saas", description="SaaS product, commercial use")
    PolicyVersion.objects.create(policy=policy, version=1, document={
        "name": "commercial-saas",
        "use": {"commercial": True, "distribution": "saas", "monthly_active_users": 5_000_000},
        "licenses": {"allow_classes": ["osi-permissive", "open-content", "vendor-community"],
                     "deny_classes": ["noncommercial"], "unknown": "deny"},
    })  # fmt: skip
    spec = MirrorSpec.objects.create(name="hf-top-llms", repo_ids=["meta-llama/Llama-3.1-8B"])
    MirrorRun.objects.create(spec=spec, upstream="https://huggingface.co", status=MirrorRun.Status.DONE,
                             started_at=now - timedelta(hours=5), finished_at=now - timedelta(hours=4),
                             listed=120, changed=14, fetched=120, bytes=73_000_000_000, failed=1)  # fmt: skip
    MirrorRun.objects.create(spec=spec, upstream="https://huggingface.co", status=MirrorRun.Status.RUNNING,
                             started_at=now - timedelta(minutes=7), listed=200, changed=30, fetched=84,
                             bytes=12_500_000_000)  # fmt: skip
    return Catalogue(alice, bob, repos, violations)

"""The JSON shapes the ``huggingface_hub`` client parses: ModelInfo/DatasetInfo, tree entries."""

from __future__ import annotations

from typing import Any

from django.utils.crypto import salted_hmac

from hub.hfapi.http import iso
from hub.models import Commit, FileScan, RepoFile, Repository
from hub.services import gitobj
from hub.services.cards import base_model_relation, card_data, derive_tags, string_list
from hub.services.commits import read_readme

#: Properties ``expand`` may name that we can answer.
EXPANDABLE = {
    "author", "baseModels", "cardData", "childrenModelCount", "createdAt", "disabled", "downloads",
    "downloadsAllTime", "gated", "lastModified", "library_name", "likes", "pipeline_tag", "private",
    "safetensors", "sha", "siblings", "spaces", "tags", "trendingScore", "usedStorage", "inference",
}  # fmt: skip

#: Every property the Hub's ``expand`` accepts (``huggingface_hub``'s ``ExpandModelProperty_T`` and
#: ``ExpandDatasetProperty_T``, 0.36 and 2.4). Those outside ``EXPANDABLE`` are left out of the answer,
#: as the Hub leaves out a property a repository has none of; any other name is refused, as the Hub
#: refuses it (400), instead of an answer holding only ``id`` that reads as "no such data".
HUB_EXPAND = {
    "model": EXPANDABLE | {
        "config", "evalResults", "gguf", "inferenceProviderMapping", "mask_token", "model-index",
        "resourceGroup", "transformersInfo", "widgetData", "xetEnabled",
    },
    "dataset": {
        "author", "cardData", "citation", "createdAt", "description", "disabled", "downloads",
        "downloadsAllTime", "gated", "lastModified", "likes", "mainSize", "paperswithcode_id", "private",
        "resourceGroup", "sha", "siblings", "tags", "trendingScore", "usedStorage", "xetEnabled",
    },
}  # fmt: skip


def unknown_expand(repo_type: str, expand: list[str]) -> str | None:
    """The refusal message when ``expand`` names a property the Hub does not know, else None."""
    allowed = HUB_EXPAND.get(repo_type, HUB_EXPAND["model"])
    unknown = sorted(set(expand) - allowed)
    if not unknown:
        return None
    return f'"expand" must be one of [{", ".join(sorted(allowed))}]; got {", ".join(unknown)}'


def opaque_id(pk: int) -> str:
    """The Hub's ``_id``: 24 hex characters, stable per repository, telling nothing.

    The primary key in hex counted every repository: the gaps in a public listing were exactly
    the private ones, and the values dated them. An HMAC of the key under the instance's secret
    keeps the shape clients expect without that.
    """
    return salted_hmac("modelhub.repo-id", str(pk)).hexdigest()[:24]


def gated_value(repo: Repository) -> bool | str:
    return repo.gated or False


def _card_and_tags(repo: Repository, commit: Commit | None, files: list[RepoFile]) -> tuple[dict, list[str]]:
    if commit is not None and commit.pk == repo.head_id:
        return repo.card_data, list(repo.tag_rows.order_by("position").values_list("tag", flat=True))
    entries = {f.path: {"size": f.size, "sha256": f.sha256} for f in files}
    meta = card_data(read_readme(entries))
    return meta, derive_tags(meta, entries.keys())


def sibling(row: RepoFile, blobs: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"rfilename": row.path}
    if blobs:
        entry["size"] = row.size
        entry["blobId"] = row.oid
        if row.lfs:
            entry["lfs"] = {"sha256": row.sha256, "size": row.size, "pointerSize": row.pointer_size}
    return entry


def safetensors_summary(commit: Commit) -> dict[str, Any] | None:
    return safetensors_summaries([commit.pk]).get(commit.pk)


def safetensors_summaries(commit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``safetensors`` (parameters per dtype, total) of each commit that has scanned weights, in one query."""
    params: dict[int, dict[str, int]] = {}
    scans = FileScan.objects.filter(commit_id__in=commit_ids, file_format="safetensors", error="")
    for commit_id, dtypes in scans.values_list("commit_id", "safetensors_dtypes"):
        counts = params.setdefault(commit_id, {})
        for dtype, count in (dtypes or {}).items():
            counts[dtype] = counts.get(dtype, 0) + int(count)
    return {c: {"parameters": p, "total": sum(p.values())} for c, p in params.items() if p}


def repo_info(
    repo: Repository, commit: Commit | None, *, blobs: bool = False, expand: list[str] | None = None
) -> dict[str, Any]:
    """ModelInfo / DatasetInfo JSON for ``repo`` at ``commit``; ``expand`` limits the properties."""
    files = list(RepoFile.objects.filter(commit=commit).order_by("path")) if commit else []
    meta, tags = _card_and_tags(repo, commit, files)
    rid = repo.repo_id
    full: dict[str, Any] = {
        "_id": opaque_id(repo.pk),
        "id": rid,
        "author": repo.namespace.name,
        "sha": commit.sha if commit else None,
        "lastModified": iso(commit.created_at if commit else repo.last_modified),
        "createdAt": iso(repo.created_at),
        "private": repo.private,
        "gated": gated_value(repo),
        "disabled": repo.disabled,
        "downloads": repo.downloads,
        "downloadsAllTime": repo.downloads,
        "likes": repo.likes,
        "trendingScore": 0,
        "tags": tags,
        "cardData": meta,
        "siblings": [sibling(f, blobs) for f in files],
        "usedStorage": sum(f.size for f in files),
        "spaces": [],
    }
    if repo.repo_type == Repository.Type.MODEL:
        full["modelId"] = rid
        if meta.get("library_name"):
            full["library_name"] = meta["library_name"]
        if meta.get("pipeline_tag"):
            full["pipeline_tag"] = meta["pipeline_tag"]
        bases = string_list(meta.get("base_model"))
        if bases:
            full["baseModels"] = {
                "relation": base_model_relation(meta, (f.path for f in files)),
                "models": [{"id": b} for b in bases],
            }
        if commit is not None and (summary := safetensors_summary(commit)):
            full["safetensors"] = summary
        full["childrenModelCount"] = (
            Repository.objects.filter(tag_rows__tag=f"base_model:{rid}", private=False).count()
            if expand and "childrenModelCount" in expand
            else 0
        )
    if not expand:
        full.pop("childrenModelCount", None)
        return full
    wanted = set(expand) & EXPANDABLE
    return {k: v for k, v in full.items() if k in wanted or k in ("id", "_id")}


def list_entry(
    repo: Repository,
    files: list[str] | None,
    *,
    full: bool,
    with_card: bool,
    expand: list[str] | None,
    safetensors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One element of the list_models / list_datasets array (cheap: no per-repo queries; ``safetensors``
    is the head's summary, read for the whole page by ``safetensors_summaries`` when expanded)."""
    rid = repo.repo_id
    entry: dict[str, Any] = {
        "_id": opaque_id(repo.pk),
        "id": rid,
        "likes": repo.likes,
        "downloads": repo.downloads,
        "trendingScore": 0,
        "private": repo.private,
        "tags": [t.tag for t in repo.tag_rows.all()],
        "createdAt": iso(repo.created_at),
    }
    if repo.repo_type == Repository.Type.MODEL:
        entry["modelId"] = rid
        if repo.library_name:
            entry["library_name"] = repo.library_name
        if repo.pipeline_tag:
            entry["pipeline_tag"] = repo.pipeline_tag
    extra = {
        "author": repo.namespace.name,
        "sha": repo.head.sha if repo.head else None,
        "lastModified": iso(repo.last_modified),
        "gated": gated_value(repo),
        "disabled": repo.disabled,
        "cardData": repo.card_data,
    }
    if full:
        entry.update({k: v for k, v in extra.items() if k != "cardData"})
        entry["siblings"] = [{"rfilename": p} for p in (files or [])]
    if with_card:
        entry["cardData"] = repo.card_data
    if expand:
        pool = {**entry, **extra, "siblings": [{"rfilename": p} for p in (files or [])]}
        pool["downloadsAllTime"] = repo.downloads
        if safetensors is not None:
            pool["safetensors"] = safetensors
        wanted = set(expand) & EXPANDABLE
        return {k: v for k, v in pool.items() if k in wanted or k in ("id", "_id")}
    return entry


def tree_entries(files: list[RepoFile], folder: str, recursive: bool) -> list[dict[str, Any]]:
    """Tree listing of ``folder`` ("" = root): files and directories, as the /tree endpoint returns."""
    prefix = folder.rstrip("/") + "/" if folder else ""
    tree_oids = gitobj.tree_ids({f.path: f.oid for f in files})
    dirs: set[str] = set()
    out: list[dict[str, Any]] = []
    for f in files:
        if not f.path.startswith(prefix):
            continue
        rest = f.path[len(prefix) :]
        parts = rest.split("/")
        for depth in range(1, len(parts) if recursive else min(2, len(parts))):
            dirs.add(prefix + "/".join(parts[:depth]))
        if recursive or len(parts) == 1:
            entry: dict[str, Any] = {"type": "file", "oid": f.oid, "size": f.size, "path": f.path}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
            out.append(entry)
    out += [{"type": "directory", "oid": tree_oids.get(d, ""), "size": 0, "path": d} for d in dirs]
    out.sort(key=lambda e: (e["path"].split("/")[:-1], e["type"] != "directory", e["path"]))
    return out


def path_entry(files: dict[str, RepoFile], tree_oids: dict[str, str], path: str) -> dict[str, Any] | None:
    f = files.get(path)
    if f is not None:
        entry: dict[str, Any] = {"type": "file", "oid": f.oid, "size": f.size, "path": f.path}
        if f.lfs:
            entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
        return entry
    if path in tree_oids and path:
        return {"type": "directory", "oid": tree_oids[path], "size": 0, "path": path}
    return None

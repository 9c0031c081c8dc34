"""Drives the unmodified ``huggingface_hub`` client against a hub, one action per run.

Run as a subprocess so ``HF_ENDPOINT``/``HF_HUB_DISABLE_XET`` are set before the client
is imported (it reads them once, at import) and so the same script runs under the
newest client and under the last 0.x in a second virtualenv. Prints one JSON object:
the action's result, or ``{"error": <exception class>, "bases": [...], "message": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main() -> None:
    import huggingface_hub as hf

    action, args = sys.argv[1], json.loads(sys.argv[2])
    api = hf.HfApi()
    repo_type = args.get("repo_type")
    if action == "version":
        out = {"version": hf.__version__}
    elif action == "snapshot":
        path = hf.snapshot_download(args["repo_id"], revision=args.get("revision"), repo_type=repo_type)
        files = {
            str(p.relative_to(path)): sha256_of(str(p)) for p in sorted(Path(path).rglob("*")) if p.is_file()
        }
        out = {"path": path, "files": files}
    elif action == "download":
        path = hf.hf_hub_download(
            args["repo_id"], args["filename"], subfolder=args.get("subfolder"), revision=args.get("revision"),
            repo_type=repo_type,
        )  # fmt: skip
        out = {"path": path, "sha256": sha256_of(path), "size": os.path.getsize(path)}
    elif action == "info":
        info = api.repo_info(args["repo_id"], revision=args.get("revision"), repo_type=repo_type,
                             files_metadata=args.get("files_metadata", False))  # fmt: skip
        out = {
            "id": info.id, "sha": info.sha, "private": info.private, "gated": info.gated,
            "tags": list(info.tags or []), "card_data": info.card_data.to_dict() if info.card_data else None,
            "siblings": [
                {"rfilename": s.rfilename, "size": s.size, "blob_id": s.blob_id,
                 "lfs": dict(s.lfs) if s.lfs else None}
                for s in (info.siblings or [])
            ],
        }  # fmt: skip
    elif action == "list":
        models = api.list_models(
            search=args.get("search"), author=args.get("author"), filter=args.get("filter"),
            limit=args.get("limit"), sort=args.get("sort"),
        )  # fmt: skip
        out = {"ids": [m.id for m in models]}
    elif action == "create_repo":
        url = api.create_repo(args["repo_id"], private=args.get("private", False), repo_type=repo_type,
                              exist_ok=args.get("exist_ok", False))  # fmt: skip
        out = {"url": str(url), "repo_id": url.repo_id}
    elif action == "upload_folder":
        info = api.upload_folder(
            folder_path=args["folder"], repo_id=args["repo_id"], repo_type=repo_type,
            commit_message=args.get("message", "upload"), path_in_repo=args.get("path_in_repo"),
        )  # fmt: skip
        out = {"oid": info.oid, "url": str(info.commit_url)}
    elif action == "upload_file":
        info = api.upload_file(path_or_fileobj=args["path"], path_in_repo=args["path_in_repo"],
                               repo_id=args["repo_id"], repo_type=repo_type,
                               revision=args.get("revision"))  # fmt: skip
        out = {"oid": info.oid}
    elif action == "delete_file":
        info = api.delete_file(args["path_in_repo"], repo_id=args["repo_id"], repo_type=repo_type,
                               revision=args.get("revision"))  # fmt: skip
        out = {"oid": info.oid}
    elif action == "create_branch":
        api.create_branch(args["repo_id"], branch=args["branch"], repo_type=repo_type)
        out = {"ok": True}
    elif action == "whoami":
        out = api.whoami()
    elif action == "list_files":
        out = {"files": sorted(api.list_repo_files(args["repo_id"], revision=args.get("revision"),
                                                   repo_type=repo_type))}  # fmt: skip
    elif action == "file_exists":
        out = {"exists": api.file_exists(args["repo_id"], args["filename"], revision=args.get("revision"))}
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:
        print(json.dumps({
            "error": type(exc).__name__, "bases": [c.__name__ for c in type(exc).__mro__],
            "message": str(exc)[:2000],
        }))  # fmt: skip

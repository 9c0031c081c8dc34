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


def _pr_upload(hf, api, args) -> dict:
    info = api.upload_file(path_or_fileobj=args["path"], path_in_repo=args["path_in_repo"], repo_id=args["repo_id"],
                           revision=args.get("revision"), create_pr=args.get("create_pr", False))  # fmt: skip
    return {"oid": info.oid, "pr_url": info.pr_url, "pr_revision": info.pr_revision, "pr_num": info.pr_num}


def _discussions(hf, api, args) -> dict:
    found = api.get_repo_discussions(args["repo_id"], discussion_type=args.get("type"),
                                     discussion_status=args.get("status"), author=args.get("author"))  # fmt: skip
    return {"discussions": [{"num": d.num, "title": d.title, "status": d.status, "is_pr": d.is_pull_request,
                             "author": d.author, "ref": d.git_reference} for d in found]}  # fmt: skip


def _details(hf, api, args) -> dict:
    d = api.get_discussion_details(args["repo_id"], args["num"])
    return {"status": d.status, "target": d.target_branch, "conflicts": d.conflicting_files,
            "merge_commit": d.merge_commit_oid, "diff": d.diff, "ref": d.git_reference,
            "events": [type(e).__name__ for e in d.events],
            "commits": [e.oid for e in d.events if type(e).__name__ == "DiscussionCommit"]}  # fmt: skip


def _merge(hf, api, args) -> dict:
    api.merge_pull_request(args["repo_id"], args["num"], comment=args.get("comment"))
    return {"ok": True}


def _status(hf, api, args) -> dict:
    event = api.change_discussion_status(
        args["repo_id"], args["num"], args["status"], comment=args.get("comment")
    )
    return {"new_status": event.new_status}


def _refs(hf, api, args) -> dict:
    refs = api.list_repo_refs(args["repo_id"], include_pull_requests=True)
    return {"branches": [b.name for b in refs.branches],
            "pull_requests": {p.ref: p.target_commit for p in refs.pull_requests or []}}  # fmt: skip


def _tree(hf, api, args) -> dict:
    entries = api.list_repo_tree(args["repo_id"], revision=args.get("revision"), recursive=True, expand=True)
    return {"last": {e.path: e.last_commit.oid for e in entries if e.last_commit}}


def _paths_info(hf, api, args) -> dict:
    entries = api.get_paths_info(args["repo_id"], args["paths"], revision=args.get("revision"), expand=True)
    return {"last": {e.path: e.last_commit.oid for e in entries if e.last_commit}}


def _access_requests(hf, api, args) -> dict:
    listed = getattr(api, f"list_{args['status']}_access_requests")(args["repo_id"])
    return {"requests": [{"user": r.username, "status": r.status, "fields": r.fields} for r in listed]}


def _handle_access(hf, api, args) -> dict:
    verb = args["verb"]
    if verb == "grant":
        api.grant_access(args["repo_id"], args["user"])
    elif verb == "reject":
        api.reject_access_request(args["repo_id"], args["user"], rejection_reason=args.get("reason"))
    else:
        getattr(api, f"{verb}_access_request")(args["repo_id"], args["user"])
    return {"ok": True}


COMMUNITY = {
    "pr_upload": _pr_upload, "discussions": _discussions, "details": _details, "merge": _merge,
    "status": _status, "refs": _refs, "tree_expand": _tree, "paths_info_expand": _paths_info,
    "access_requests": _access_requests, "handle_access": _handle_access,
}  # fmt: skip


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
    elif action in COMMUNITY:
        out = COMMUNITY[action](hf, api, args)
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

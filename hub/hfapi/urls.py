"""Routes of the Hugging Face–compatible API.

Only specific shapes are claimed (``/api/...``, ``/{repo}/resolve/...``,
``/{repo}.git/info/lfs/...``, ``/datasets/...``) so the catalogue keeps ``/{owner}/{name}``.
Revisions and paths may contain '/', so they are matched as tails and split in the views.
"""

from django.urls import re_path

from hub.hfapi import discussions, gating, lfs, read, resolve, write

SEG = r"[^/]+"
KIND = r"(?P<kind>models|datasets)"
REPO = rf"(?P<ns>{SEG})/(?P<name>{SEG})"
API = rf"^api/{KIND}/{REPO}"

urlpatterns = [
    re_path(r"^api/whoami-v2$", write.whoami, name="hf-whoami"),
    re_path(r"^api/repos/create$", write.create_repo, name="hf-repo-create"),
    re_path(r"^api/validate-yaml$", write.validate_yaml, name="hf-validate-yaml"),
    re_path(r"^api/repos/delete$", write.delete_repo, name="hf-repo-delete"),
    re_path(r"^api/lfs/upload/(?P<token>[^/]+)$", lfs.upload, name="hf-lfs-upload"),
    re_path(r"^api/lfs/complete/(?P<token>[^/]+)$", lfs.complete_multipart, name="hf-lfs-complete"),
    re_path(rf"^api/{KIND}$", read.list_repos, name="hf-list"),
    re_path(rf"{API}$", read.repo_info, name="hf-info"),
    re_path(rf"{API}/revision/(?P<rev>.+)$", read.repo_info, name="hf-info-rev"),
    re_path(rf"{API}/tree/(?P<tail>.+)$", read.tree, name="hf-tree"),
    re_path(rf"{API}/paths-info/(?P<rev>.+)$", read.paths_info, name="hf-paths-info"),
    re_path(rf"{API}/refs$", read.refs, name="hf-refs"),
    re_path(rf"{API}/commits/(?P<rev>.+)$", read.commits, name="hf-commits"),
    re_path(rf"{API}/auth-check$", read.auth_check, name="hf-auth-check"),
    re_path(rf"{API}/auth-check/write$", read.auth_check, {"write": True}, name="hf-auth-check-write"),
    re_path(rf"{API}/settings$", write.repo_settings, name="hf-settings"),
    re_path(rf"{API}/preupload/(?P<rev>.+)$", write.preupload, name="hf-preupload"),
    re_path(rf"{API}/commit/(?P<rev>.+)$", write.commit, name="hf-commit"),
    re_path(rf"{API}/branch/(?P<branch>.+)$", write.branch, name="hf-branch"),
    re_path(rf"{API}/tag/(?P<rev>.+)$", write.tag, name="hf-tag"),
    re_path(rf"{API}/user-access-request$", write.request_access, name="hf-access-request"),
    re_path(rf"{API}/user-access-request/handle$", gating.handle, name="hf-access-handle"),
    re_path(rf"{API}/user-access-request/grant$", gating.grant, name="hf-access-grant"),
    re_path(
        rf"{API}/user-access-request/(?P<status>pending|accepted|rejected)$",
        gating.listing,
        name="hf-access-list",
    ),
    re_path(rf"{API}/discussions$", discussions.discussions, name="hf-discussions"),
    re_path(rf"{API}/discussions/(?P<num>[0-9]+)$", discussions.details, name="hf-discussion"),
    re_path(
        rf"{API}/discussions/(?P<num>[0-9]+)/(?P<action>comment|status|title|merge)$",
        discussions.change,
        name="hf-discussion-change",
    ),
    re_path(rf"{API}/xet-(?:read|write)-token/(?P<rev>.*)$", write.xet_token, name="hf-xet"),
    re_path(rf"^{REPO}/resolve/(?P<tail>.+)$", resolve.resolve, name="hf-resolve"),
    re_path(
        rf"^datasets/{REPO}/resolve/(?P<tail>.+)$",
        resolve.resolve,
        {"kind": "datasets"},
        name="hf-resolve-ds",
    ),
    re_path(rf"^{REPO}\.git/info/lfs/objects/batch$", lfs.batch, name="hf-lfs-batch"),
    re_path(
        rf"^datasets/{REPO}\.git/info/lfs/objects/batch$",
        lfs.batch,
        {"kind": "datasets"},
        name="hf-lfs-batch-ds",
    ),
    re_path(rf"^{REPO}\.git/info/lfs/objects/verify$", lfs.verify, name="hf-lfs-verify"),
    re_path(
        rf"^datasets/{REPO}\.git/info/lfs/objects/verify$",
        lfs.verify,
        {"kind": "datasets"},
        name="hf-lfs-verify-ds",
    ),
]

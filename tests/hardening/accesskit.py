"""The world and the callers of the access-control matrix (``test_access_matrix.py``).

One organisation ``acme`` owns three models and three datasets that differ only in who may
see them: public, gated (manual approval, nobody approved) and private. A seventh name,
``zq-absent-model``, does not exist: every answer a caller gets for the private repository
must be indistinguishable from the answer for that one (status, error code, header names
and body, once the two names are swapped), otherwise existence leaks.

Callers are (session user, bearer token) pairs, so one request function serves the Hub API
(tokens, and sessions for GET), the native API (tokens and sessions) and the catalogue
(sessions only: a token sent to a page must change nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.utils import timezone

ORG = "acme"
#: Names chosen so they never occur by accident in a page: a leak check can grep for them.
HIDDEN = "zq-hidden-model"
ABSENT = "zq-absent-model"
HIDDEN_MARKER = "zq-secret-card-marker"
#: The public models are non-commercial, so a private derivative of one shows up in lineage and
#: "derived from a non-commercial parent" answers if visibility is forgotten there.
CARD = b"---\nlicense: cc-by-nc-4.0\nlibrary_name: transformers\n---\n# A model\n"
HIDDEN_CARD = (
    f"---\nlibrary_name: zq-hidden-lib\nbase_model: {ORG}/zq-public-model\n---\n# {HIDDEN_MARKER}\n"
).encode()  # no licence: the private model has an open missing-license violation
WEIGHTS = bytes(range(256)) * 64

CALLERS = ("anonymous", "other", "member", "admin", "read-token", "write-token", "revoked-token")
STATES = ("public", "gated", "private")


@dataclass(frozen=True)
class CallerSpec:
    name: str
    session: Any | None  # a user logged in by session, or None
    token: str | None  # a bearer token, or None
    sees_private: bool
    #: May fetch file content of the gated repo (write access to it, or an accepted request).
    downloads_gated: bool
    #: May change acme's repositories through a token-authenticated API.
    writes_by_token: bool


@dataclass
class World:
    callers: dict[str, CallerSpec]
    repos: dict[tuple[str, str], Any]  # (kind, state) -> Repository
    users: dict[str, Any]

    def name(self, state: str, kind: str = "model") -> str:
        repo = self.repos[(kind, state)]
        return repo.name

    def client(self, caller: str) -> Client:
        spec = self.callers[caller]
        client = Client()
        if spec.session is not None:
            client.force_login(spec.session)
        return client

    def headers(self, caller: str) -> dict[str, str]:
        token = self.callers[caller].token
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}


def build_world(django_user_model) -> World:
    """Users, tokens, the org and its repositories, through the real services."""
    from hub.auth import mint_token
    from hub.models import Namespace, OrgMembership

    owner = django_user_model.objects.create_user("olga")
    member = django_user_model.objects.create_user("mia")
    other = django_user_model.objects.create_user("mallory")
    root = django_user_model.objects.create_superuser("root", email="root@example.com")
    org = Namespace.objects.create(name=ORG, kind=Namespace.Kind.ORG)
    OrgMembership.objects.create(org=org, user=owner, role=OrgMembership.Role.ADMIN)
    OrgMembership.objects.create(org=org, user=member, role=OrgMembership.Role.WRITE)

    repos = {}
    for kind, suffix in (("model", "model"), ("dataset", "data")):
        for state in STATES:
            name = HIDDEN if (state, kind) == ("private", "model") else f"zq-{state}-{suffix}"
            if (state, kind) == ("private", "dataset"):
                name = "zq-hidden-data"
            files = {"README.md": HIDDEN_CARD if state == "private" else CARD, "config.json": b'{"a": 1}'}
            files["model.safetensors"] = WEIGHTS
            gated = "manual" if state == "gated" else ""
            repos[(kind, state)] = org_repo(
                owner, name, files, private=state == "private", gated=gated, kind=kind
            )

    read_token, _ = mint_token(member, scope="read", name="read")
    write_token, _ = mint_token(member, scope="write", name="write")
    revoked_token, revoked_row = mint_token(member, scope="write", name="revoked")
    revoked_row.revoked_at = timezone.now()
    revoked_row.save(update_fields=["revoked_at"])
    other_token, _ = mint_token(other, scope="write", name="other")
    root_token, _ = mint_token(root, scope="write", name="root")
    callers = {
        "anonymous": CallerSpec("anonymous", None, None, False, False, False),
        "other": CallerSpec("other", other, other_token, False, False, False),
        "member": CallerSpec("member", member, None, True, True, False),
        "admin": CallerSpec("admin", root, root_token, True, True, True),
        "read-token": CallerSpec("read-token", None, read_token, True, True, False),
        "write-token": CallerSpec("write-token", None, write_token, True, True, True),
        "revoked-token": CallerSpec("revoked-token", None, revoked_token, False, False, False),
    }
    users = {"owner": owner, "member": member, "other": other, "root": root}
    return World(callers, repos, users)


def org_repo(owner, name: str, files: dict[str, bytes], *, private: bool, gated: str, kind: str):
    """A repository of ``ORG`` with one commit of ``files`` (weights through LFS), analysed."""
    import hashlib
    import io

    from django.test import TestCase

    from hub.auth import Caller
    from hub.blobstore import get_blob_store
    from hub.models import ApiToken
    from hub.services.blobs import record_blob, store_small
    from hub.services.commits import AddFile, CommitRequest, create_commit
    from hub.services.repos import create_repository

    caller = Caller(owner, ApiToken(scope="write"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        repo, _ = create_repository(caller, name=name, organization=ORG, repo_type=kind, private=private)
        ops = []
        for path, content in files.items():
            if path.endswith(".safetensors"):
                digest = hashlib.sha256(content).hexdigest()
                info = get_blob_store().put(io.BytesIO(content), expected_sha256=digest)
                record_blob(info)
                ops.append(AddFile(path, info.sha256, info.size, lfs=True))
            else:
                stored = store_small(content, 1024 * 1024)
                ops.append(AddFile(path, stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid))
        create_commit(repo, "main", CommitRequest(title="add files", operations=ops), author=owner)
    if gated:
        repo.gated = gated
        repo.save(update_fields=["gated"])
    repo.refresh_from_db()
    return repo


CSRF_RE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")|(csrftoken=)[^;"\s]*')
# "now", then "2 seconds ago": a relative time changes while a test runs
TIME_TEXT_RE = re.compile(r"(<time [^>]*>)[^<>]*</time>")
VOLATILE_HEADERS = {"date", "set-cookie", "vary", "content-length", "expires", "last-modified"}


def normalise_body(body: bytes, swap: tuple[str, str] | None = None) -> str:
    """A body with per-session noise (CSRF tokens) removed and, optionally, one name swapped for another."""
    text = body.decode("utf-8", "replace")
    text = CSRF_RE.sub(lambda m: (m.group(1) or m.group(3) or "") + "X" + (m.group(2) or ""), text)
    text = TIME_TEXT_RE.sub(r"\1…</time>", text)
    if swap:
        text = text.replace(swap[0], swap[1])
    return text


def header_shape(response) -> tuple:
    """What a client can tell apart without the body: status, error code, header names."""
    names = sorted(h.lower() for h in response.headers if h.lower() not in VOLATILE_HEADERS)
    return response.status_code, response.headers.get("X-Error-Code"), tuple(names)


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content

"""The Hub upload protocol spoken step by step over raw HTTP, for the fault tests.

``huggingface_hub`` hides which step failed and retries on its own; the fault tests need
to switch a part off between two steps and read the exact answer of the step that met
the fault. So this speaks the same wire protocol the client does (LFS batch → PUT, or
multipart parts + completion → verify → NDJSON commit), one call per step, and returns
every response unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

import requests

TIMEOUT = 60


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StepFailed(Exception):
    """A protocol step answered non-2xx; ``response`` is that answer, ``step`` names it."""

    def __init__(self, step: str, response: requests.Response) -> None:
        super().__init__(f"{step}: {response.status_code} {response.text[:300]}")
        self.step = step
        self.response = response


@dataclass
class HubWire:
    base: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)
    verify_links: dict[str, str] = field(default_factory=dict)  # oid → the batch's verify href

    def __post_init__(self) -> None:
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def _check(self, step: str, response: requests.Response) -> requests.Response:
        if not response.ok:
            raise StepFailed(step, response)
        return response

    def create_repo(self, name: str) -> str:
        resp = self.session.post(
            f"{self.base}/api/repos/create", json={"name": name, "type": "model"}, timeout=TIMEOUT
        )
        return self._check("create", resp).json()["name"]

    def upload_lfs(self, repo_id: str, data: bytes, before=None) -> None:
        """batch → upload (single PUT or multipart + completion) → verify; StepFailed on the first error.

        ``before(step)`` is called before each of our own steps ("batch", "upload", "complete",
        "verify"), so a test can switch a part off exactly there.
        """
        oid, size = sha(data), len(data)
        before = before or (lambda step: None)
        before("batch")
        resp = self.session.post(
            f"{self.base}/{repo_id}.git/info/lfs/objects/batch",
            json={
                "operation": "upload",
                "transfers": ["basic", "multipart"],
                "objects": [{"oid": oid, "size": size}],
                "hash_algo": "sha256",
            },
            headers={"Accept": "application/vnd.git-lfs+json"},
            timeout=TIMEOUT,
        )
        obj = self._check("batch", resp).json()["objects"][0]
        actions = obj.get("actions")
        if not actions:
            return  # already stored and verified
        upload = actions["upload"]
        self.verify_links[oid] = actions["verify"]["href"]  # as the client does: the link the batch gave
        header = upload.get("header") or {}
        if "chunk_size" in header:
            chunk = int(header["chunk_size"])
            parts = []
            for number in range(1, -(-size // chunk) + 1):
                # Presigned part URLs are not ours: no Authorization header (as the client does).
                put = requests.put(
                    header[f"{number:05d}"], data=data[(number - 1) * chunk : number * chunk], timeout=TIMEOUT
                )
                self._check(f"part {number}", put)
                parts.append({"partNumber": number, "etag": put.headers["ETag"]})
            before("complete")
            done = self.session.post(upload["href"], json={"oid": oid, "parts": parts}, timeout=TIMEOUT)
            self._check("complete", done)
        else:
            before("upload")
            self._check("upload", self.session.put(upload["href"], data=data, timeout=TIMEOUT))
        before("verify")
        self.verify(repo_id, data)

    def verify(self, repo_id: str, data: bytes) -> None:
        """POST the verify link the batch issued for this content (its signed upload ticket)."""
        resp = self.session.post(
            self.verify_links.get(sha(data), f"{self.base}/{repo_id}.git/info/lfs/objects/verify"),
            json={"oid": sha(data), "size": len(data)},
            timeout=TIMEOUT,
        )
        self._check("verify", resp)

    def resend(self, failed: StepFailed) -> requests.Response:
        """The failed step's request sent again unchanged, as a client retrying a 5xx does."""
        return self.session.send(failed.response.request, timeout=TIMEOUT)

    def commit(
        self,
        repo_id: str,
        *,
        files: dict[str, bytes] | None = None,
        lfs: dict[str, bytes] | None = None,
        summary: str = "upload",
        branch: str = "main",
    ) -> str:
        """One NDJSON commit: inline ``files`` and LFS pointers to already uploaded ``lfs`` content."""
        lines = [{"key": "header", "value": {"summary": summary, "description": ""}}]
        for path, content in (files or {}).items():
            lines.append(
                {
                    "key": "file",
                    "value": {
                        "path": path,
                        "encoding": "base64",
                        "content": base64.b64encode(content).decode(),
                    },
                }
            )
        for path, content in (lfs or {}).items():
            lines.append(
                {
                    "key": "lfsFile",
                    "value": {"path": path, "algo": "sha256", "oid": sha(content), "size": len(content)},
                }
            )
        body = "\n".join(json.dumps(line) for line in lines).encode() + b"\n"
        resp = self.session.post(
            f"{self.base}/api/models/{repo_id}/commit/{branch}",
            data=body,
            headers={"Content-Type": "application/x-ndjson"},
            timeout=TIMEOUT,
        )
        return self._check("commit", resp).json()["commitOid"]

    def download(self, repo_id: str, path: str, revision: str = "main") -> bytes:
        resp = self.session.get(f"{self.base}/{repo_id}/resolve/{revision}/{path}", timeout=TIMEOUT)
        return self._check("download", resp).content

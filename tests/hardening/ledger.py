"""What a client was told, checked against what the hub holds after a fault.

A ``Ledger`` records every commit the hub acknowledged (200 with a commit id) and the
exact files it should hold. ``verify`` then proves the two halves of "no lost data":
nothing acknowledged is missing or altered (every commit, file row and branch head as
acknowledged; every blob re-read from the store hashes to its address) and nothing
unacknowledged is visible (row counts are exactly the acknowledged ones, no Blob row
without content behind it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass
class Ledger:
    repo_id: str
    base_commits: int = 0
    base_files: int = 0
    base_refs: int = 0
    acked: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (commit sha, {path: sha256})

    @classmethod
    def start(cls, repo_id: str) -> Ledger:
        from hub.models import Commit, Ref, RepoFile

        return cls(repo_id, Commit.objects.count(), RepoFile.objects.count(), Ref.objects.count())

    def head_files(self) -> dict[str, str]:
        return dict(self.acked[-1][1]) if self.acked else {}

    def ack(self, sha: str, added: dict[str, bytes]) -> None:
        files = self.head_files() if self.acked else self._initial_files()
        files.update({path: hashlib.sha256(content).hexdigest() for path, content in added.items()})
        self.acked.append((sha, files))

    def _initial_files(self) -> dict[str, str]:
        from hub.models import Ref, RepoFile

        ns, name = self.repo_id.split("/")
        ref = Ref.objects.get(repository__namespace__name=ns, repository__name=name, name="main")
        return {f.path: f.sha256 for f in RepoFile.objects.filter(commit=ref.commit_id)}

    def verify(self) -> None:
        from hub.blobstore import get_blob_store
        from hub.models import Blob, Commit, Ref, RepoFile

        ns, name = self.repo_id.split("/")
        for sha, files in self.acked:
            commit = Commit.objects.get(repository__namespace__name=ns, repository__name=name, sha=sha)
            held = {f.path: f.sha256 for f in RepoFile.objects.filter(commit=commit)}
            assert held == files, f"commit {sha} holds {held}, acknowledged {files}"
        if self.acked:
            head = Ref.objects.get(repository__namespace__name=ns, repository__name=name, name="main")
            assert head.commit.sha == self.acked[-1][0], "main does not point at the last acknowledged commit"
        assert Commit.objects.count() == self.base_commits + len(self.acked), "unacknowledged commit rows"
        assert RepoFile.objects.count() == self.base_files + sum(len(f) for _, f in self.acked), (
            "stray file rows"
        )
        assert Ref.objects.count() == self.base_refs, "a ref was added or lost"
        store = get_blob_store()
        for blob in Blob.objects.all():
            digest = hashlib.sha256()
            with store.open(blob.sha256) as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            assert digest.hexdigest() == blob.sha256, f"blob {blob.sha256} reads back as {digest.hexdigest()}"
            assert store.stat(blob.sha256).size == blob.size

"""The hub's data model: namespaces, repositories, git-style commits, files, blobs, analysis, tokens.

Revisions are stored the way the Hub API presents them rather than as a git object
database: a ``Commit`` carries the full file listing of its revision (``RepoFile`` rows,
one per path), each pointing at a content-addressed ``Blob``. Listing a revision, resolving
a path at a revision and diffing two revisions are then single indexed queries, and a blob
shared by a thousand revisions (or repositories) is stored once.

Denormalised columns (``Repository.last_modified``, ``card_data``, ``RepoTag``,
``Repository.latest_analysis``) exist for the list/search/filter endpoints and the
catalogue; the commit service keeps them in step with the ``main`` branch.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models.functions import Lower, Now, Upper
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from hub.signals import visibility_changed

NAME_MAX = 96


#: First path segments of the site's own pages and APIs (and ``static``, ``spaces``): an owner of that
#: name would have its repositories shadowed by them (``/licenses/mit`` is the MIT licence's page,
#: not that owner's model). A test checks that every route's first segment is listed here.
RESERVED_NAMESPACES = frozenset(
    {"admin", "api", "compliance", "dashboard", "datasets", "healthz", "licenses", "login", "logout"}
    | {"models", "models.csv", "readyz", "settings", "spaces", "static", "violations", "violations.csv"}
)


def is_reserved_namespace(name: str) -> bool:
    return name.lower() in RESERVED_NAMESPACES


def lock_repositories(repositories: models.QuerySet) -> list[int]:
    """Lock these repositories' rows in primary-key order, inside the caller's transaction; their pks.

    The one lock every writer of a repository takes first (commits, deletions, the violation writers),
    in one order so that two writers of several repositories cannot deadlock. A deletion that reaches
    a repository through a cascade or a queryset takes these locks before its collector reads what to
    delete: a commit in flight (which holds its repository's lock) then finishes first and its rows
    are deleted too, instead of the collector deadlocking with it (it wrote the branch rows first and
    reached the repository row last) or missing its new commit.
    """
    return list(repositories.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


class _LockingDeleteQuerySet(models.QuerySet):
    """``delete()`` locks the repositories it will delete first (``lock_repositories``): the
    admin's "delete selected" and any bulk deletion of namespaces or repositories."""

    def _repositories(self) -> models.QuerySet:
        raise NotImplementedError

    def delete(self) -> tuple[int, dict[str, int]]:
        with transaction.atomic(using=self.db):
            lock_repositories(self._repositories().using(self.db))
            return super().delete()


class NamespaceQuerySet(_LockingDeleteQuerySet):
    def _repositories(self) -> models.QuerySet:
        return Repository.objects.filter(namespace__in=self.values("pk"))


class RepositoryQuerySet(_LockingDeleteQuerySet):
    def _repositories(self) -> models.QuerySet:
        return Repository.objects.filter(pk__in=self.values("pk"))


class Namespace(models.Model):
    """Who owns repositories: a user's personal namespace or an organisation."""

    class Kind(models.TextChoices):
        USER = "user", "User"
        ORG = "org", "Organisation"

    name = models.CharField(max_length=NAME_MAX, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.USER)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="namespace"
    )
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NamespaceQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="hub_namespace_name_ci_unique")]
        # ``name__iexact`` compiles to UPPER(name) = UPPER(%s) on PostgreSQL: this index serves it.
        indexes = [models.Index(Upper("name"), name="hub_namespace_name_upper_idx")]

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        """Delete the namespace and its repositories, once no commit is in flight on them (their
        rows are locked first, as ``Repository.delete`` locks its own)."""
        using = kwargs.get("using") or router.db_for_write(Namespace)
        with transaction.atomic(using=using):
            lock_repositories(Repository.objects.using(using).filter(namespace_id=self.pk))
            return super().delete(*args, **kwargs)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self._state.adding and is_reserved_namespace(self.name):
            raise ValidationError({"name": reserved_message(self.name)})

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and is_reserved_namespace(self.name):
            raise ValidationError(reserved_message(self.name))
        super().save(*args, **kwargs)


def reserved_message(name: str) -> str:
    return f"{name!r} cannot own repositories: /{name}/… is one of the site's own pages"


class OrgMembership(models.Model):
    """A user's role in an organisation namespace: read < write < admin."""

    class Role(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        ADMIN = "admin", "Admin"

    org = models.ForeignKey(
        Namespace, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )  # a unique constraint leads with it
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.READ)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="hub_orgmembership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.role})"


class Repository(models.Model):
    """A model or dataset repository, ``namespace/name``, possibly a mirror of an upstream one."""

    class Type(models.TextChoices):
        MODEL = "model", "Model"
        DATASET = "dataset", "Dataset"

    class Gated(models.TextChoices):
        NONE = "", "Not gated"
        AUTO = "auto", "Automatic approval"
        MANUAL = "manual", "Manual approval"

    class MirrorStatus(models.TextChoices):
        NONE = "", "Not a mirror"
        PENDING = "pending", "Pending"
        SYNCING = "syncing", "Syncing"
        OK = "ok", "Up to date"
        FAILED = "failed", "Failed"
        NEEDS_ACCESS = "needs-access", "Needs licence acceptance upstream"
        GONE = "gone", "Gone upstream (kept here)"
        MOVED = "moved", "Renamed upstream (kept here)"

    # db_index=False on a foreign key whose column leads a unique constraint: that index already serves
    # lookups by it, and a second one only costs every insert (the mirror writes millions of rows)
    namespace = models.ForeignKey(
        Namespace, on_delete=models.CASCADE, related_name="repositories", db_index=False
    )

    objects = RepositoryQuerySet.as_manager()
    name = models.CharField(max_length=NAME_MAX)
    repo_type = models.CharField(max_length=8, choices=Type.choices, default=Type.MODEL)
    private = models.BooleanField(default=False)
    gated = models.CharField(max_length=8, choices=Gated.choices, default=Gated.NONE, blank=True)
    gating_config = models.JSONField(default=dict, blank=True, help_text="extra_gated_* fields from the card")
    disabled = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Denormalised from the head of the default branch by the commit service.
    default_branch = models.CharField(max_length=255, default="main")
    head = models.ForeignKey("Commit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_modified = models.DateTimeField(default=timezone.now)
    card_data = models.JSONField(default=dict, blank=True)
    library_name = models.CharField(max_length=100, blank=True)
    pipeline_tag = models.CharField(max_length=100, blank=True)
    card_license = models.CharField(max_length=100, blank=True, help_text="`license` as the card declares it")
    latest_analysis = models.ForeignKey(
        "RevisionAnalysis", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Catalogue columns: copies of ``latest_analysis``'s filterable columns (``save`` keeps them in step
    # whenever it writes ``latest_analysis``) and the number of open violations (kept by
    # ``licenses.services.violations``), so that a filter plus a sort is one index range of this table
    # instead of a join per row walked.
    license_key = models.CharField(
        max_length=100, blank=True, default="", db_default="", help_text="latest analysis: licence key"
    )
    license_class = models.CharField(
        max_length=40, blank=True, default="", db_default="", help_text="latest analysis: licence class"
    )
    commercial_use = models.CharField(
        max_length=16, blank=True, default="", db_default="", help_text="latest analysis: commercial use"
    )
    transparency_score = models.FloatField(null=True, blank=True, help_text="latest analysis: score 0-100")
    disclosure_level = models.IntegerField(null=True, blank=True, help_text="latest analysis: disclosure 0-4")
    unsafe_files = models.IntegerField(
        default=0, db_default=0, help_text="latest analysis: files with dangerous imports"
    )
    open_violations = models.IntegerField(default=0, db_default=0, help_text="violations in status open")
    downloads = models.BigIntegerField(default=0)
    likes = models.IntegerField(default=0)
    # Mirrors: where the repository comes from and how far the sync got.
    mirrored_from = models.URLField(max_length=500, blank=True, help_text="upstream endpoint + repo id")
    upstream_id = models.CharField(max_length=200, blank=True)
    upstream_sha = models.CharField(max_length=40, blank=True)
    mirror_status = models.CharField(max_length=16, choices=MirrorStatus.choices, default="", blank=True)
    mirror_error = models.TextField(blank=True)
    mirrored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(fields=["namespace", "repo_type", "name"], name="hub_repo_unique"),
        ]
        indexes = [
            models.Index(fields=["repo_type", "private", "-last_modified"], name="hub_repo_list_idx"),
            models.Index(fields=["repo_type", "-downloads"], name="hub_repo_downloads_idx"),
            models.Index(fields=["repo_type", "-created_at"], name="hub_repo_created_idx"),
            models.Index(fields=["card_license"], name="hub_repo_license_idx"),
            models.Index(fields=["mirror_status"], name="hub_repo_mirror_idx"),
            # case-insensitive ``owner/name`` lookups (``name__iexact``) without a sequential scan
            models.Index(Upper("name"), "namespace", name="hub_repo_name_upper_idx"),
            # catalogue: an equality filter read in downloads order (the default sort) straight off an index
            *(
                models.Index(
                    fields=["repo_type", column, "-downloads", "-id"], name=f"hub_repo_{short}_dl_idx"
                )
                for column, short in (
                    ("license_key", "key"),
                    ("license_class", "cls"),
                    ("commercial_use", "com"),
                    ("pipeline_tag", "task"),
                    ("library_name", "lib"),
                )
            ),
            # the transparency sort and score ranges; models without a score are not in that ordering
            models.Index(
                fields=["repo_type", "-transparency_score", "-id"],
                name="hub_repo_score_idx",
                condition=models.Q(transparency_score__isnull=False),
            ),
            # "has open violations" is rare: a small partial index in downloads order
            models.Index(
                fields=["repo_type", "-downloads", "-id"],
                name="hub_repo_viol_dl_idx",
                condition=models.Q(open_violations__gt=0),
            ),
            # mirrors are a minority on a self-hosted hub
            models.Index(
                fields=["repo_type", "-downloads", "-id"],
                name="hub_repo_mirror_dl_idx",
                condition=~models.Q(mirrored_from=""),
            ),
        ]

    #: Columns copied from ``latest_analysis`` (same names on both models).
    ANALYSIS_COLUMNS = (
        "license_key",
        "license_class",
        "commercial_use",
        "transparency_score",
        "disclosure_level",
        "unsafe_files",
    )

    def __str__(self) -> str:
        return self.repo_id

    def copy_analysis_columns(self) -> None:
        """Set the catalogue columns from ``latest_analysis`` (cleared when there is none)."""
        analysis = self.latest_analysis
        for column in self.ANALYSIS_COLUMNS:
            default = self._meta.get_field(column).get_default()
            setattr(self, column, getattr(analysis, column) if analysis is not None else default)

    def save(self, *args, **kwargs) -> None:
        """Whenever ``latest_analysis`` is written with the analysis at hand, its catalogue columns go with it.

        Doing it here rather than at each caller means no path that sets the latest analysis (the analysis
        task, mirrors, fixtures) can leave the catalogue filtering on stale columns. A full save of a row
        whose analysis was never loaded leaves them as loaded, costing no query.
        """
        fields = kwargs.get("update_fields")
        if fields is None:
            if self.latest_analysis_id is None or Repository.latest_analysis.is_cached(self):
                self.copy_analysis_columns()
        elif {"latest_analysis", "latest_analysis_id"} & set(fields):
            self.copy_analysis_columns()  # loads the analysis if only its id was set
            kwargs["update_fields"] = {*fields, *self.ANALYSIS_COLUMNS}
        # the stored visibility, read when this save writes it: an instance's own loaded value can
        # be stale (another request toggled it since), and a missed change leaves descendants
        # judged with a parent they can no longer (or can now) see. Read locked (the row this save
        # writes next anyway): two toggles at once each read the other's uncommitted value otherwise,
        # and the second, seeing no change, sent nothing; the descendants stayed judged on the first.
        if not (
            self.pk is not None and (fields is None or "private" in fields) and "private" in self.__dict__
        ):
            super().save(*args, **kwargs)
            return
        # one transaction: the re-judging the change needs (an outbox row) commits with it, or neither
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(Repository)):
            before = (
                Repository.objects.select_for_update(of=("self",))
                .filter(pk=self.pk)
                .values_list("private", flat=True)
                .first()
            )
            super().save(*args, **kwargs)
            if before is not None and before != self.private:
                # whatever route changed it (Hub API settings, native API, admin)
                visibility_changed.send(sender=Repository, repository=self)

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        """Delete the repository once no commit is in flight on it: its row is locked first.

        A commit locks this row and then writes its branch and files; the cascade deleted the
        branches and commits first and cleared this row's ``head`` last, so a deletion racing a
        commit deadlocked (one of the two requests failed as "database unavailable"). Taken first,
        the lock puts the deletion after the commit, or the commit after the deletion (a 404).
        A repository deleted meanwhile by someone else is left as it is: ``(0, {})``.
        """
        using = kwargs.get("using") or router.db_for_write(Repository)
        with transaction.atomic(using=using):
            if not lock_repositories(Repository.objects.using(using).filter(pk=self.pk)):
                return 0, {}
            return super().delete(*args, **kwargs)

    @property
    def repo_id(self) -> str:
        return f"{self.namespace.name}/{self.name}"


class RepoTag(models.Model):
    """One tag of a repository's current card/analysis (``license:mit``, ``base_model:x/y`` …).

    A table rather than a JSON list so that ``filter=a&filter=b`` (AND of tags) is an
    indexed join on every database, SQLite included.
    """

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="tag_rows", db_index=False
    )  # covered by the unique constraint's leading column
    tag = models.CharField(max_length=300)
    position = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "tag"], name="hub_repotag_unique")]
        indexes = [models.Index(fields=["tag"], name="hub_repotag_tag_idx")]

    def __str__(self) -> str:
        return self.tag


class AccessRequest(models.Model):
    """A user's request to access a gated repository, and its decision."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="access_requests", db_index=False
    )  # a unique constraint leads with it
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    fields = models.JSONField(default=dict, blank=True, help_text="answers to extra_gated_fields")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejection_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "user"], name="hub_accessrequest_unique")
        ]
        indexes = [models.Index(fields=["repository", "status"], name="hub_accessrequest_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.repository} ({self.status})"


class Blob(models.Model):
    """Content stored once in the blob store under its sha256, shared by every file that holds it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # refreshed before every write of this content (``hub.services.blobs.mark_storing``): the
    # garbage collector deletes only content stored before its cutoff, so a re-upload of
    # content it is about to collect either refreshes this first (and is spared) or finds the
    # row gone and writes the bytes again
    stored_at = models.DateTimeField(default=timezone.now, db_default=Now())

    def __str__(self) -> str:
        return self.sha256


class BlobGrant(models.Model):
    """Content a repository's uploader proved to hold: its bytes were hashed in an upload to it.

    Blobs are shared by every repository holding the same content, so knowing a sha256 must not
    be enough to put that content in one's own repository (the hash of a gated or private file
    can be public, and the commit would then serve the file to anyone). A commit may name
    content already in its repository's history, content its author may download from another
    repository, or content granted here.
    """

    repository = models.ForeignKey("Repository", on_delete=models.CASCADE, related_name="+", db_index=False)
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # who uploaded it: a grant serves that user and the repository's writers, not every user who
    # may open a pull request there (they hold nothing by another contributor's upload)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "blob", "user"], name="hub_blobgrant_unique_per_user"
            )
        ]


class AddressClaim(models.Model):
    """The one client upload allowed to assemble at a content address on S3 until it expires.

    Two uploads of the same new content, both multipart, would both try to complete at the
    address; S3 keeps the first and the second uploader's verify then finds someone else's
    object. The first batch to claim the address gets it; the others upload to their own
    staging keys.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    ticket = models.CharField(max_length=32)
    expires_at = models.DateTimeField()


class Commit(models.Model):
    """One revision of a repository; ``sha`` is a 40-hex lowercase id (upstream's, for mirrors)."""

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="commits", db_index=False
    )  # covered by the unique constraint's leading column
    sha = models.CharField(max_length=40)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    title = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="commits"
    )
    author_name = models.CharField(max_length=200, blank=True, help_text="for mirrored commits")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "sha"], name="hub_commit_unique")]
        indexes = [models.Index(fields=["repository", "-created_at"], name="hub_commit_history_idx")]

    def __str__(self) -> str:
        return f"{self.repository_id}@{self.sha[:7]}"


class Ref(models.Model):
    """A branch or tag name pointing at a commit."""

    class Kind(models.TextChoices):
        BRANCH = "branch", "Branch"
        TAG = "tag", "Tag"
        # ``refs/pr/{name}``: the head of pull request number ``name`` (see ``Discussion``).
        PR = "pr", "Pull request"

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="refs", db_index=False
    )  # covered by the unique constraint's leading column
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BRANCH)
    name = models.CharField(max_length=255)
    commit = models.ForeignKey(Commit, on_delete=models.CASCADE, related_name="refs")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "kind", "name"], name="hub_ref_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def git_blob_sha1(content: bytes) -> str:
    """The git object id of ``content``: sha1 of ``blob {size}\\0{content}`` (the Hub's ``blobId``)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file the Hub stores in git for an LFS file; its sha1 is the file's blobId."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


class RepoFile(models.Model):
    """One file of one revision: path, size, git oid, sha256 for LFS files, and its blob."""

    commit = models.ForeignKey(
        Commit, on_delete=models.CASCADE, related_name="files", db_index=False
    )  # covered by the unique constraint's leading column
    path = models.CharField(max_length=1000)
    size = models.BigIntegerField()
    oid = models.CharField(max_length=40, help_text="git blob sha1 (of the LFS pointer for LFS files)")
    lfs = models.BooleanField(default=False)
    sha256 = models.CharField(max_length=64, help_text="sha256 of the content")
    pointer_size = models.IntegerField(null=True, blank=True)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="files")
    # The last commit that changed this path, carried forward by the commit service so that
    # ``lastCommit`` in tree listings is one lookup instead of a walk of the history. NULL means
    # "changed in this row's own commit" (new content, or rows written before the column existed).
    last_commit = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commit", "path"], name="hub_repofile_unique")]

    def __str__(self) -> str:
        return self.path

    @property
    def etag(self) -> str:
        """What the client uses as the cache blob name: sha256 for LFS files, git sha1 otherwise."""
        return self.sha256 if self.lfs else self.oid


class Discussion(models.Model):
    """A discussion or pull request of a repository, numbered like the Hub's (``/discussions/{num}``).

    A pull request's commits live on the ref ``refs/pr/{num}`` (``Ref.Kind.PR``); ``base_commit``
    is where it branched from, which is what a merge compares both sides against.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        MERGED = "merged", "Merged"

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="discussions", db_index=False
    )  # a unique constraint leads with it
    num = models.IntegerField()
    title = models.CharField(max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_pull_request = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    target_branch = models.CharField(max_length=255, blank=True)
    base_commit = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merge_commit = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "num"], name="hub_discussion_num_unique")
        ]

    def __str__(self) -> str:
        return f"{self.repository_id}#{self.num}"


class DiscussionEvent(models.Model):
    """One entry of a discussion's timeline: comment, status change, commit or title change.

    ``data`` holds the type-specific part exactly as the Hub API returns it (``{"status": …}``,
    ``{"oid", "subject"}`` …), so the details endpoint serialises without per-type columns.
    """

    class Type(models.TextChoices):
        COMMENT = "comment", "Comment"
        STATUS = "status-change", "Status change"
        COMMIT = "commit", "Commit"
        TITLE = "title-change", "Title change"

    discussion = models.ForeignKey(Discussion, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=16, choices=Type.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.discussion} {self.type}"


class RevisionAnalysis(models.Model):
    """The licence/transparency analysis of one revision, with filterable denormalised columns."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    commit = models.OneToOneField(Commit, on_delete=models.CASCADE, related_name="analysis")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(default=dict, blank=True, help_text="the contract's analyze JSON")
    license_key = models.CharField(max_length=100, blank=True)
    license_class = models.CharField(max_length=40, blank=True)
    commercial_use = models.CharField(max_length=16, blank=True)
    transparency_score = models.FloatField(null=True, blank=True)
    disclosure_level = models.IntegerField(null=True, blank=True)
    n_errors = models.IntegerField(default=0)
    n_warnings = models.IntegerField(default=0)
    unsafe_files = models.IntegerField(default=0, help_text="files whose scan found dangerous imports")
    analysed_at = models.DateTimeField(null=True, blank=True)
    # when the newest run of this analysis started: a run that started earlier (a redelivered or
    # re-sent message overtaken by a newer one) read older data and must not store over it
    started_at = models.DateTimeField(null=True, blank=True)
    engine_version = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "revision analyses"
        indexes = [
            models.Index(fields=["license_key"], name="hub_analysis_license_idx"),
            models.Index(fields=["license_class"], name="hub_analysis_class_idx"),
            models.Index(fields=["commercial_use"], name="hub_analysis_commercial_idx"),
            models.Index(fields=["transparency_score"], name="hub_analysis_score_idx"),
            models.Index(fields=["status"], name="hub_analysis_status_idx"),
        ]

    def __str__(self) -> str:
        return f"analysis of {self.commit}"


class FileScan(models.Model):
    """Security/format scan of one weight file of one revision (picklescan, safetensors header)."""

    commit = models.ForeignKey(
        Commit, on_delete=models.CASCADE, related_name="scans", db_index=False
    )  # a unique constraint leads with it
    path = models.CharField(max_length=1000)
    blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans")
    file_format = models.CharField(
        max_length=20, blank=True, help_text="safetensors, pickle, zip-pickle, gguf …"
    )
    scanner = models.CharField(max_length=60, blank=True)
    contains_pickle = models.BooleanField(default=False)
    dangerous_imports = models.JSONField(default=list, blank=True)
    safetensors_dtypes = models.JSONField(default=dict, blank=True, help_text="dtype → parameter count")
    tensor_count = models.IntegerField(null=True, blank=True)
    parameter_count = models.BigIntegerField(null=True, blank=True)
    header_metadata = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    scanned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["commit", "path"], name="hub_filescan_unique")]

    def __str__(self) -> str:
        return f"scan of {self.path}"

    @property
    def unsafe(self) -> bool:
        return bool(self.dangerous_imports)


class ApiToken(models.Model):
    """An API token, stored as its sha256 only; ``prefix`` identifies it to humans (shown once)."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user}, {self.scope})"

    @property
    def active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


def namespace_for_user(user) -> Namespace:
    """The user's personal namespace, created on first need (users made before the hub existed)."""
    ns = Namespace.objects.filter(user=user).first()
    if ns is not None:
        return ns
    from hub.services.errors import BadRequest

    name = user.get_username()
    if is_reserved_namespace(name):
        raise BadRequest(reserved_message(name) + "; create the repository in an organisation")
    # The name may be taken already, case-insensitively: by an organisation (a user created later under
    # an organisation's name, e.g. a mirrored one) or by another user ("Alice" beside "alice"). Such a
    # user has no personal namespace; it must never be handed someone else's.
    taken = Namespace.objects.filter(name__iexact=name).first()
    if taken is not None:
        whose = "an organisation" if taken.kind == Namespace.Kind.ORG else "another user"
        raise BadRequest(
            f"{name!r} cannot own repositories: {taken.name!r} is the namespace of {whose}; "
            "create the repository in an organisation"
        )
    ns, _ = Namespace.objects.get_or_create(name=name, user=user, defaults={"kind": Namespace.Kind.USER})
    return ns


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="hub_user_namespace")
def _create_user_namespace(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every user gets a namespace of their own name, as on the Hub (``username/model``)."""
    name = instance.get_username()
    if is_reserved_namespace(name):
        return  # such a user can sign in and join organisations, but owns no repositories of its own
    if created and not raw and not Namespace.objects.filter(name__iexact=name).exists():
        Namespace.objects.create(name=instance.get_username(), kind=Namespace.Kind.USER, user=instance)


@receiver(pre_delete, sender=Repository, dispatch_uid="hub_lock_repository_before_deletion")
def _lock_before_deletion(sender, instance: Repository, using: str, **kwargs) -> None:
    """Lock the repository's row before the deletion writes anything, by routes that lock nothing
    before their collector reads (a user's deletion cascading to its namespace).

    ``Repository.delete``, ``Namespace.delete`` and their querysets' ``delete`` lock first. Another
    cascade's collector deleted the branch and file rows first and reached the repository row last,
    deadlocking with a commit in flight (the repository locked, its branch next). The collector sends
    ``pre_delete`` inside its transaction before its first write: such a deletion now waits for the
    commit and then fails on the commit it did not collect (an IntegrityError, nothing deleted; run
    again, it succeeds) instead of deadlocking.
    """
    lock_repositories(Repository.objects.using(using).filter(pk=instance.pk))

"""What the mirror workers keep: specifications of what to mirror, and a record of every run.

A ``MirrorSpec`` is edited in the admin or the API; Celery beat fires it every
``interval_minutes``. A ``MirrorRun`` carries live counters (updated as the run goes,
so the API and the dashboard show progress) and the cursor that lets a killed run
resume where it stopped.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def upstream_credentials_problem(url: str) -> str:
    """Why this upstream URL may not be stored, or ``""``.

    The upstream is public: the mirror API lists specifications and runs to anyone, every mirrored
    repository's ``mirrored_from`` and model page show it, and the worker logs it. A user name and
    password written into it (``https://user:pass@hub.internal``) would be published with it; the
    token belongs in the environment variable ``token_env`` names.
    """
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return (
            "the upstream URL must not carry credentials (user:password@): it is shown to everyone; "
            "put the upstream token in an environment variable and name it in token_env"
        )
    return ""


class MirrorSpec(models.Model):
    """Which repos to follow on which upstream, what to copy, and how often."""

    class Files(models.TextChoices):
        NONE = "none", "Metadata and card only"
        SMALL = "small", "Also small files (configs, licences)"
        ALL = "all", "Also weights (within the limits)"

    name = models.SlugField(max_length=100, unique=True)
    upstream = models.URLField(max_length=300, default="https://huggingface.co")
    token_env = models.CharField(
        max_length=100, blank=True, help_text="environment variable holding the token"
    )
    repo_ids = models.JSONField(default=list, blank=True, help_text="explicit repo ids")
    authors = models.JSONField(default=list, blank=True, help_text="authors or organisations")
    search = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="filter tags, e.g. license:mit")
    descendants_of = models.CharField(max_length=200, blank=True, help_text="base_model: descendants of")
    top_n = models.PositiveIntegerField(null=True, blank=True, help_text="top N by downloads")
    limit = models.PositiveIntegerField(null=True, blank=True, help_text="at most this many repos per run")
    files = models.CharField(max_length=8, choices=Files.choices, default=Files.SMALL)
    file_patterns = models.JSONField(default=list, blank=True, help_text="glob patterns of files to copy")
    max_file_size = models.BigIntegerField(null=True, blank=True, help_text="bytes; larger files are skipped")
    interval_minutes = models.PositiveIntegerField(default=60 * 24)
    max_concurrency = models.PositiveSmallIntegerField(default=4)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if problem := upstream_credentials_problem(self.upstream):
            raise ValidationError({"upstream": problem})


class MirrorRun(models.Model):
    """One pass of a specification, with live counters and a resumable cursor."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    #: A run that holds its specification: one at a time per spec, and the spec is not deleted under it.
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    spec = models.ForeignKey(MirrorSpec, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    upstream = models.URLField(max_length=300)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    listed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cursor = models.TextField(blank=True, help_text="where a resumed run continues")
    errors = models.JSONField(default=list, blank=True, help_text="per-repo failures: {repo, error}")
    error = models.TextField(blank=True)
    # Added for the workers: a lease, so a redelivered task never runs beside a live one.
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last sign of life of the run")
    worker = models.CharField(
        max_length=200, blank=True, default="", db_default="", help_text="who holds the run (host:pid)"
    )
    options = models.JSONField(
        default=dict, blank=True, db_default={}, help_text="selection of a run without a spec"
    )

    class Meta:
        indexes = [models.Index(fields=["-started_at"], name="mirror_run_recent_idx")]

    def __str__(self) -> str:
        return f"mirror run {self.pk} ({self.status})"


class MirroredRepo(models.Model):
    """What the mirror knows about one repository beyond the hub's own columns.

    The hub's ``Repository`` carries the status shown everywhere (``mirror_status``,
    ``upstream_sha``); this row keeps the upstream facts the hub has no column for (the
    full upstream file list, including files the spec chose not to copy; the upstream
    metadata with Xet hints removed), which specification brought the repository in,
    and what the last change cost, so a resumed run counts a repository it already
    synced before the kill exactly once.
    """

    repository = models.OneToOneField("hub.Repository", on_delete=models.CASCADE, related_name="mirror_state")
    spec = models.ForeignKey(
        MirrorSpec,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mirrored_repos",
        db_index=False,  # workers_mirrored_seen_idx leads with spec
    )
    upstream = models.URLField(max_length=300)
    upstream_id = models.CharField(max_length=200)
    upstream_sha = models.CharField(max_length=40, blank=True)
    upstream_last_modified = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="upstream model info, Xet hints removed")
    siblings = models.JSONField(default=list, blank=True, help_text="upstream files: {path, size, sha256}")
    last_seen_run = models.ForeignKey(
        MirrorRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_changed_run = models.ForeignKey(
        MirrorRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_fetched = models.PositiveIntegerField(default=0, help_text="files fetched by the last change")
    last_bytes = models.BigIntegerField(default=0, help_text="bytes fetched by the last change")
    gone_at = models.DateTimeField(null=True, blank=True, help_text="when upstream stopped serving it")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["upstream", "upstream_id"], name="workers_mirrored_upstream_unique"
            )
        ]
        indexes = [models.Index(fields=["spec", "last_seen_run"], name="workers_mirrored_seen_idx")]

    def __str__(self) -> str:
        return f"{self.upstream_id} from {self.upstream}"


class OutboxMessage(models.Model):
    """A task to send, written in the same transaction as the change that needs it (``workers.enqueue``).

    After COMMIT the task is sent and the row deleted once the broker has accepted it; a row that is
    still here was not sent (the broker was unreachable, or the process died first), and the beat
    sweep ``workers.send_outbox`` sends it. Rolled back with its transaction, it never existed — so a
    task is never sent for a change that did not happen, and never lost for one that did.
    """

    task = models.CharField(max_length=200, help_text="the Celery task's registered name")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    #: sha256 of task, args and kwargs: rows with the same key are satisfied by one run (see the sweep)
    dedupe_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0, help_text="sends that failed")
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)!r} ({self.attempts} failed sends)"

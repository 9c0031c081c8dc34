"""Admin for the mirror (edit specifications, start a run, watch runs and mirrored repositories) and the task outbox."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models

from workers.models import MirroredRepo, MirrorRun, MirrorSpec, OutboxMessage


@admin.register(MirrorSpec)
class MirrorSpecAdmin(admin.ModelAdmin):
    list_display = ("name", "upstream", "files", "interval_minutes", "enabled", "last_run_at")
    list_filter = ("enabled", "files")
    search_fields = ("name", "upstream")
    readonly_fields = ("created_at", "last_run_at")
    actions = ["run_now"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "upstream", "token_env", "enabled")}),
        (
            "Which repositories",
            {"fields": ("repo_ids", "authors", "search", "tags", "descendants_of", "top_n", "limit")},
        ),
        ("What to copy", {"fields": ("files", "file_patterns", "max_file_size")}),
        (
            "How often, how hard",
            {"fields": ("interval_minutes", "max_concurrency", "created_at", "last_run_at")},
        ),
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        """Not a spec with a run queued or running, as in the API: its run's row would go with it
        while the worker went on."""
        if obj is not None and obj.runs.filter(status__in=MirrorRun.ACTIVE).exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        busy = list(
            queryset.filter(runs__status__in=MirrorRun.ACTIVE).distinct().values_list("name", flat=True)
        )
        if busy:
            self.message_user(
                request, f"not deleted, a run is under way: {', '.join(busy)}", messages.WARNING
            )
        super().delete_queryset(request, queryset.exclude(name__in=busy))

    @admin.action(description="Run the selected specifications now")
    def run_now(self, request, queryset) -> None:
        """One run per specification, as "run now" in the API: pressed twice, the action started two
        runs of one spec side by side, each fetching the same changes from the upstream."""
        from workers.tasks import start_run_unless_active

        started, busy = [], []
        for spec in queryset:
            run_id, new = start_run_unless_active(spec)
            (started if new else busy).append(f"{spec.name} (run {run_id})")
        if started:
            self.message_user(request, f"started: {', '.join(started)}", messages.SUCCESS)
        if busy:
            self.message_user(request, f"already queued or running: {', '.join(busy)}", messages.WARNING)


@admin.register(MirrorRun)
class MirrorRunAdmin(admin.ModelAdmin):
    list_display = ("id", "spec", "upstream", "status", "started_at", "finished_at", "listed", "changed", "fetched",
                    "bytes", "failed")  # fmt: skip
    list_filter = ("status", "spec")
    readonly_fields = [f.name for f in MirrorRun._meta.fields]


@admin.register(MirroredRepo)
class MirroredRepoAdmin(admin.ModelAdmin):
    list_display = ("upstream_id", "upstream", "spec", "upstream_sha", "gone_at", "updated_at")
    list_filter = ("spec", "upstream")
    search_fields = ("upstream_id",)
    raw_id_fields = ("repository", "last_seen_run", "last_changed_run")
    readonly_fields = ("metadata", "siblings")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Follow-up tasks not sent yet (``workers.enqueue``): empty while the broker takes them. A row
    with failed sends waits for the broker; one naming an unknown task is left for an operator."""

    list_display = ("id", "task", "args", "created_at", "attempts", "last_error")
    list_filter = ("task",)
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

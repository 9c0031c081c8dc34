"""Dashboard figures: licence classes, violations over time, transparency, mirror runs.

Aggregates run over what the viewer may see, so they are cached per viewer (anonymous
visitors share one entry) for a minute: a GROUP BY over a million rows is not per-request work.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, IntegerField
from django.db.models.functions import Cast, Floor, TruncWeek
from django.urls import reverse
from django.utils import timezone

from frontend import charts
from frontend.catalogue import base_queryset
from frontend.triage import visible_violations
from frontend.vocab import CLASS_LABELS, class_colour
from workers.models import MirrorRun

WEEKS = 12
CACHE_SECONDS = 60


def licence_classes(user) -> list[charts.Bar]:
    rows = base_queryset(user).values("license_class").annotate(n=Count("pk"))
    counts: dict[str, int] = {}
    for row in rows:
        cls = row["license_class"] or "unknown"
        counts[cls] = counts.get(cls, 0) + row["n"]
    return [
        charts.Bar(
            label, counts.get(cls, 0), class_colour(cls), reverse("frontend:models") + f"?license_class={cls}"
        )
        for cls, label in CLASS_LABELS.items()
    ]


def transparency_histogram(user) -> list[charts.Bar]:
    rows = (
        base_queryset(user)
        .filter(transparency_score__isnull=False)
        .annotate(bucket=Cast(Floor("transparency_score") / 10, IntegerField()))
        .values("bucket")
        .annotate(n=Count("pk"))
    )
    counts = [0] * 10
    for row in rows:
        counts[min(9, max(0, int(row["bucket"] or 0)))] += row["n"]
    return [
        charts.Bar(f"{i * 10}–{i * 10 + 9 if i < 9 else 100}", n, "#0072B2") for i, n in enumerate(counts)
    ]


def violations_over_time(user) -> tuple[list[str], list[float], list[float]]:
    """Per week for the last ``WEEKS`` weeks: violations first seen, and violations triaged or resolved."""
    today = timezone.now()
    start = (today - timedelta(weeks=WEEKS - 1)).date()
    start = start - timedelta(days=start.weekday())
    weeks = [start + timedelta(weeks=i) for i in range(WEEKS)]
    qs = visible_violations(user)

    def per_week(field: str) -> list[float]:
        rows = (
            qs.filter(**{f"{field}__date__gte": start})
            .annotate(week=TruncWeek(field))
            .values("week")
            .annotate(n=Count("pk"))
        )
        by_week = {r["week"].date() if hasattr(r["week"], "date") else r["week"]: r["n"] for r in rows}
        return [float(by_week.get(w, 0)) for w in weeks]

    return [w.strftime("%d %b") for w in weeks], per_week("first_seen_at"), per_week("status_changed_at")


def figures(user) -> dict:
    key = f"frontend:dashboard:{user.pk if user.is_authenticated else 'anon'}"
    if (cached := cache.get(key)) is not None:
        return cached
    classes = licence_classes(user)
    histogram = transparency_histogram(user)
    labels, opened, triaged = violations_over_time(user)
    data = {
        "classes": classes,
        "classes_chart": charts.bar_chart(classes, "Models by licence class"),
        "histogram": histogram,
        "histogram_chart": charts.column_chart(
            histogram, "Models by transparency score", x_title="transparency score"
        ),
        "violations_chart": charts.line_chart(
            labels,
            [("first seen", opened, "#D55E00"), ("triaged or resolved", triaged, "#009E73")],
            "Violations per week",
        ),
        "violation_weeks": list(zip(labels, opened, triaged, strict=True)),
        "open_by_rule": list(
            visible_violations(user)
            .filter(status="open")
            .values("rule")
            .annotate(n=Count("pk"))
            .order_by("-n")[:10]
        ),
    }
    cache.set(key, data, CACHE_SECONDS)
    return data


def mirror_runs(limit: int = 10) -> list[MirrorRun]:
    return list(MirrorRun.objects.select_related("spec").order_by("-started_at")[:limit])


RUN_COLOURS = {"done": "#009E73", "running": "#0072B2", "queued": "#7f7f7f", "failed": "#D55E00"}


def mirror_runs_chart(runs: list[MirrorRun]) -> str:
    """Repositories fetched per run, oldest to newest, coloured by status (a running run grows live)."""
    columns = [
        charts.Bar(f"#{run.pk}", run.fetched, RUN_COLOURS.get(run.status, "#7f7f7f"))
        for run in reversed(runs)
    ]
    return charts.column_chart(
        columns,
        "Repositories fetched per mirror run",
        height=160,
        x_title="run (colour: status)",
        min_slots=10,
    )

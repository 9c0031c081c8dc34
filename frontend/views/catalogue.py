"""``/`` and ``/models``: the searchable, filterable catalogue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers

from frontend import catalogue
from frontend.exports import csv_download, token_or_session
from frontend.vocab import CLASS_LABELS, COMMERCIAL_LABELS, DISCLOSURE_LABELS, SORTS
from licenses.engine.kb import default_kb
from licenses.models import Policy


def home(request: HttpRequest) -> HttpResponse:
    return redirect("frontend:models")


def models_list(request: HttpRequest) -> HttpResponse:
    filters = catalogue.CatalogueFilters.from_query(request.GET)
    result = catalogue.run(request.user, filters)
    context = {
        "result": result,
        "f": filters,
        "classes": CLASS_LABELS,
        "commercial_values": COMMERCIAL_LABELS,
        "disclosure_levels": DISCLOSURE_LABELS,
        "sorts": SORTS,
        "licences": sorted(default_kb().all(), key=lambda i: i.key),
        "policies": list(Policy.objects.order_by("name").values_list("name", flat=True)),
        "tasks": catalogue.facet_values("pipeline_tag"),
        "libraries": catalogue.facet_values("library_name"),
        # "Apache-2.0" or "Llama 3.1 Community License" typed in search names a licence, not a model:
        # offer its filter (search matches model ids and card text, and found nothing for such names)
        "licence_hint": default_kb().lookup(filters.search)
        if filters.search and not filters.license
        else None,
    }
    partial = request.headers.get("X-Partial") == "results"
    response = render(request, "frontend/_model_results.html" if partial else "frontend/models.html", context)
    # One URL, two bodies: without these the browser's Back button (live filtering puts the URL in
    # the history) showed the cached bare fragment, without styles, header or filters.
    patch_vary_headers(response, ["X-Partial"])
    if partial:
        add_never_cache_headers(response)
    return response


@token_or_session
def models_csv(request: HttpRequest) -> HttpResponse:
    """``/models.csv``: every model the same filters select, as CSV (the page shows 30 at a time)."""
    filters = catalogue.CatalogueFilters.from_query(request.GET)
    header = (
        "model", "licence", "class", "commercial use", "transparency", "disclosure level",
        "open violations", "downloads", "likes", "last modified", "mirrored from", "url",
    )  # fmt: skip
    return csv_download(
        request, "models.csv", header, catalogue.export_queryset(request.user, filters), _model_row
    )


def _model_row(r, base: str) -> tuple:
    score = "" if r.transparency_score is None else round(r.transparency_score)
    level = "" if r.disclosure_level is None else r.disclosure_level
    return (
        r.repo_id, r.license_key or r.card_license, r.license_class, r.commercial_use, score, level,
        r.open_violations, r.downloads, r.likes, r.last_modified.date().isoformat(), r.mirrored_from,
        f"{base}/{r.repo_id}",
    )  # fmt: skip

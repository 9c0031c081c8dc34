"""The catalogue query: visibility, filters, search, sort and pagination for ``/models``.

Views stay thin: they parse the request into ``CatalogueFilters`` and call ``run``. Every
filter and sort is a comparison on ``hub_repository``'s own columns: the latest analysis's
licence/transparency columns and the open-violation count are copied onto the repository
(migration ``hub.0005_catalogue_columns``) with composite indexes in sort order, so a filter
plus a sort is one index range instead of a join per row walked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.core.cache import cache
from django.db.models import F, Q, QuerySet
from django.http import QueryDict

from frontend import search
from frontend.counting import Tally, bounded_count
from frontend.pagination import Page, keyset_page
from frontend.policies import policy_filter
from frontend.vocab import PAGE_SIZE, SORT_ALIASES, SORTS
from hub.models import Repository
from hub.services.access import visible_repositories
from licenses.models import Policy

#: Counting stops here: "1,000+ models" is as useful as an exact count and bounded in cost at any
#: table size. The unfiltered catalogue shows its exact total instead, recounted every ten minutes.
COUNT_CAP = 1_000
TOTAL_CACHE_SECONDS = 600

_SORT_KEYS = {
    "downloads": "downloads",
    "likes": "likes",
    "lastModified": "last_modified",
    "createdAt": "created_at",
    "transparency": "transparency_score",
}


def _int(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(float(value or ""))
    except (ValueError, OverflowError):  # not a number; or inf, 1e309: no integer at all
        return None
    return max(low, min(high, number))


@dataclass(frozen=True)
class CatalogueFilters:
    """What ``/models`` was asked for; every field maps to one query-string parameter."""

    search: str = ""
    license: str = ""
    license_class: str = ""
    commercial: str = ""
    policy: str = ""
    tmin: int | None = None
    tmax: int | None = None
    disclosure: int | None = None
    task: str = ""
    library: str = ""
    violations: str = ""  # "open": has open violations, "none": has none
    source: str = ""  # "mirrored" | "native"
    sort: str = ""
    cursor: str = ""
    page: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_query(cls, params: QueryDict) -> CatalogueFilters:
        sort = params.get("sort", "").strip()
        sort = SORT_ALIASES.get(sort, sort)
        return cls(
            search=params.get("search", "").strip()[:200],
            license=params.get("license", "").strip().lower()[:100],
            license_class=params.get("license_class", "").strip()[:40],
            commercial=params.get("commercial", "").strip()[:16],
            policy=params.get("policy", "").strip()[:100],
            tmin=_int(params.get("tmin"), 0, 100),
            tmax=_int(params.get("tmax"), 0, 100),
            disclosure=_int(params.get("disclosure"), 0, 4),
            task=params.get("task", "").strip()[:100],
            library=params.get("library", "").strip()[:100],
            violations=params.get("violations", "").strip()[:8],
            source=params.get("source", "").strip()[:10],
            sort=sort if sort in SORTS else "",
            cursor=params.get("cursor", "").strip()[:200],
            page=_int(params.get("p"), 1, 10_000) or 1,
        )

    @property
    def effective_sort(self) -> str:
        """Relevance when searching without an explicit sort, downloads otherwise (the Hub's "trending")."""
        if self.sort:
            return self.sort
        return "relevance" if self.search else "downloads"

    def active(self) -> bool:
        return any(
            [self.search, self.license, self.license_class, self.commercial, self.policy, self.task, self.library,
             self.violations, self.source, self.tmin is not None, self.tmax is not None, self.disclosure is not None]
        )  # fmt: skip


@dataclass
class CatalogueResult:
    filters: CatalogueFilters
    page: Page
    count: int
    count_capped: bool
    sort: str
    page_number: int = 1
    has_next_page_number: bool = False
    policy_error: str = ""
    count_approx: bool = False  # the count is the planner's estimate (counting overran its budget)
    # paged by number (``?p=``: search results ranked in memory) rather than by keyset cursor; not
    # the same as ``sort == "relevance"``, which is only what PostgreSQL can say of the order
    numbered: bool = False


def base_queryset(user) -> QuerySet[Repository]:
    return visible_repositories(user, Repository.Type.MODEL).filter(disabled=False)


def apply_filters(qs: QuerySet[Repository], f: CatalogueFilters) -> tuple[QuerySet[Repository], str]:
    """Narrow ``qs`` by every filter except search; returns the query and a policy error, if any."""
    if f.license:
        # not analysed yet: the licence the card declares
        qs = qs.filter(Q(license_key=f.license) | Q(latest_analysis__isnull=True, card_license=f.license))
    if f.license_class:
        qs = qs.filter(license_class=f.license_class)
    if f.commercial:
        qs = qs.filter(commercial_use=f.commercial)
    if f.tmin is not None:
        qs = qs.filter(transparency_score__gte=f.tmin)
    if f.tmax is not None:
        qs = qs.filter(transparency_score__lte=f.tmax)
    if f.disclosure is not None:
        qs = qs.filter(disclosure_level__gte=f.disclosure)
    if f.task:
        qs = qs.filter(pipeline_tag=f.task)
    if f.library:
        qs = qs.filter(library_name=f.library)
    if f.violations == "open":
        qs = qs.filter(open_violations__gt=0)
    elif f.violations == "none":
        qs = qs.filter(open_violations=0)
    if f.source == "mirrored":
        qs = qs.exclude(mirrored_from="")
    elif f.source == "native":
        qs = qs.filter(mirrored_from="")
    error = ""
    if f.policy:
        policy = Policy.objects.filter(name=f.policy).first()
        version = policy.current if policy else None
        if version is None:
            error = f"No policy named “{f.policy}”."
            qs = qs.none()
        else:
            condition, error = policy_filter(version.document)
            qs = qs.filter(condition) if condition is not None else qs.none()
    return qs, error


def capped_count(qs: QuerySet[Repository]) -> Tally:
    """Exact below ``COUNT_CAP``, else capped; bounded in time too (``frontend.counting``)."""
    return bounded_count(qs, COUNT_CAP)


def cached_total(qs: QuerySet[Repository]) -> int:
    """The exact number of public models, counted at most every ten minutes (a full count is not per-request work)."""
    total = cache.get("frontend:catalogue:total")
    if total is None:
        total = qs.order_by().count()
        cache.set("frontend:catalogue:total", total, TOTAL_CACHE_SECONDS)
    return total


def _search_candidates(filtered: QuerySet[Repository], text: str) -> tuple[list[int], int, bool, bool]:
    """(most downloaded matches to rank, count, count capped, all matches known) for a search.

    The order of attempts keeps every step bounded (see ``frontend.search``): a term the planner
    expects to be common is looked up in the most downloaded models first; a rare one is read
    through the GIN index; one that turns out to have more matches than ``PROBE_FIRST`` is
    tried as a common one, and only if that fails read further through the index.
    """
    tried_dense = search.likely_dense(text)
    dense = search.dense_candidates(filtered, text) if tried_dense else None
    if dense is not None:  # at least this many; the most downloaded of them are known
        return dense, len(dense), True, False
    exact = search.matching(filtered, text, prefilter=False)
    found = search.probe(exact, search.PROBE_FIRST)
    if len(found) > search.PROBE_FIRST:
        dense = None if tried_dense else search.dense_candidates(filtered, text)
        if dense is not None:
            return dense, len(dense), True, False
        found = search.probe(exact, search.PROBE)
    found.sort(key=lambda row: (-row[1], -row[0]))
    all_known = len(found) <= search.PROBE
    return (
        [pk for pk, _ in found[: search.RANK_CANDIDATES]],
        min(len(found), COUNT_CAP),
        len(found) > COUNT_CAP,
        all_known,
    )


def run(user, f: CatalogueFilters) -> CatalogueResult:
    qs, policy_error = apply_filters(base_queryset(user), f)
    sort = f.effective_sort
    sparse = approx = False
    if f.search:
        candidates, count, capped, sparse = _search_candidates(qs, f.search)
        qs = search.matching(qs, f.search)
        if sort == "relevance":
            size = PAGE_SIZE
            last_page = max(1, -(-len(candidates) // size))
            number = min(f.page, last_page)
            items = list(search.ranked(candidates, f.search)[(number - 1) * size : number * size])
            page = Page(items, None, number > 1)
            # only PostgreSQL ranks by relevance; elsewhere the order is downloads, and says so
            shown = sort if search.is_postgres() else "downloads"
            return CatalogueResult(
                f, page, count, capped, shown, number, number < last_page, policy_error, numbered=True
            )
    elif not f.active() and not user.is_authenticated:
        count, capped = cached_total(qs), False
    else:
        tally = capped_count(qs)
        count, capped, approx = tally.n, tally.capped, tally.approx
    key = _SORT_KEYS[sort]
    if key == "transparency_score":
        # models without a score yet are left out of this ordering (its index is partial the same way)
        qs = qs.filter(transparency_score__isnull=False)
    qs = qs.select_related("namespace", "latest_analysis")
    if sparse:  # few matches: sort them from the index's rows rather than walk a sort index
        with search.bitmap_scans():
            page = keyset_page(qs, key, f.cursor, PAGE_SIZE)
    else:
        page = keyset_page(qs, key, f.cursor, PAGE_SIZE)
    return CatalogueResult(f, page, count, capped, sort, policy_error=policy_error, count_approx=approx)


def export_queryset(user, f: CatalogueFilters) -> QuerySet[Repository]:
    """Every model the filters select (no page, no count), in the page's order; relevance, which
    is ranked in memory for one page at a time, is exported by downloads."""
    qs, _ = apply_filters(base_queryset(user), f)
    if f.search:
        qs = search.matching(qs, f.search)
    key = _SORT_KEYS.get(f.effective_sort, "downloads")
    return qs.select_related("namespace").order_by(F(key).desc(nulls_last=True), "-pk")


def facet_values(column: str, limit: int = 200) -> list[str]:
    """Distinct tasks or libraries for the filter lists, cached: a DISTINCT over a million rows is not per-request work."""
    key = f"frontend:facet:{column}"
    values = cache.get(key)
    if values is None:
        values = sorted(
            v
            for v in Repository.objects.filter(repo_type=Repository.Type.MODEL, private=False)
            .exclude(**{column: ""})
            .values_list(column, flat=True)
            .distinct()[:limit]
        )
        cache.set(key, values, 300)
    return values


def with_cursor(f: CatalogueFilters, cursor: str) -> CatalogueFilters:
    return replace(f, cursor=cursor)

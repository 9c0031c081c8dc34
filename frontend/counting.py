"""How many models a listing has: exact up to a cap, and never more than a time budget.

Counting to ``cap + 1`` is bounded in rows returned but not in rows read: a filter matching
0.5% of a million models reads ~200,000 rows to find 1,001 matches, which costs more than the
whole rest of the page. So on PostgreSQL the count runs under a ``statement_timeout``; when it
runs out, the planner's estimate (from ANALYZE's statistics, a millisecond) is shown instead,
labelled "about". The listing itself never depends on the count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet

#: Longest an exact count may take before the estimate is used (PostgreSQL only).
COUNT_BUDGET_MS = 50
_QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout


@dataclass(frozen=True)
class Tally:
    n: int
    capped: bool = False  # there are more than ``n``
    approx: bool = False  # ``n`` is the planner's estimate


def bounded_count(qs: QuerySet, cap: int) -> Tally:
    """Exact up to ``cap`` (beyond it capped), or the planner's estimate if counting overran the budget."""
    limited = qs.order_by().values("pk")[: cap + 1]
    if connection.vendor != "postgresql":
        n = limited.count()
        return Tally(min(n, cap), n > cap)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(COUNT_BUDGET_MS)])
            n = limited.count()
            # SET LOCAL would last to the end of an enclosing transaction (a request's or a test's)
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != _QUERY_CANCELED:
            raise
        return Tally(estimate(qs), approx=True)  # the savepoint's rollback restored the timeout
    return Tally(min(n, cap), n > cap)


def estimate(qs: QuerySet) -> int:
    """The planner's row estimate for ``qs``, rounded to two significant figures (it is no more exact)."""
    plan = json.loads(qs.order_by().values("pk").explain(format="json"))
    rows = int(plan[0]["Plan"]["Plan Rows"])
    if rows < 100:
        return rows
    magnitude = 10 ** (len(str(rows)) - 2)
    return round(rows / magnitude) * magnitude

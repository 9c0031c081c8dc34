"""Charts as inline SVG rendered on the server: no chart library, no JavaScript, no CDN.

Each function returns escaped SVG markup with a ``<title>``/``aria-label`` and a text
value beside every bar, so the numbers are readable without seeing the colours and by
screen readers; templates also render the same data as a table for exactness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str = "#0072B2"
    href: str = ""


def _svg_open(width: int, height: int, label: str, css: str, role: str = "img") -> str:
    """The chart's ``<svg>``: ``role="img"`` unless it holds links (then ``group``, so that the
    links it holds stay reachable and named for assistive technology)."""
    return (
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="{role}" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(label)}</title>'
    )


def bar_chart(bars: Sequence[Bar], label: str, *, width: int = 560, unit: str = "") -> SafeString:
    """Horizontal bars, one per item, with label at the left and value at the right."""
    row, label_w, value_w = 26, 190, 70
    height = max(row * len(bars), row) + 8
    top = max((b.value for b in bars), default=0) or 1
    span = width - label_w - value_w
    out = [_svg_open(width, height, label, "bar-chart", "group" if any(b.href for b in bars) else "img")]
    if not bars:
        out.append('<text x="0" y="18" class="muted">No data yet</text>')
    for i, bar in enumerate(bars):
        y = 4 + i * row
        w = max(2.0, span * bar.value / top) if bar.value else 0
        text = f"{bar.value:g}{unit}"
        name = f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="bar-label">{escape(bar.label)}</text>'
        if bar.href:
            name = f'<a href="{escape(bar.href)}">{name}</a>'
        out.append(
            f"{name}"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{escape(bar.colour)}" rx="2">'
            f"<title>{escape(bar.label)}: {escape(text)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" class="bar-value">{escape(text)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))


def column_chart(
    columns: Sequence[Bar],
    label: str,
    *,
    width: int = 560,
    height: int = 200,
    x_title: str = "",
    min_slots: int = 1,
) -> SafeString:
    """Vertical columns (histograms, counts per period) with the value above each column.

    ``min_slots`` keeps a chart of two columns from drawing two slabs.
    """
    bottom, top_pad = 34 if x_title else 22, 18
    n = max(len(columns), min_slots, 1)
    slot = width / n
    peak = max((c.value for c in columns), default=0) or 1
    plot_h = height - bottom - top_pad
    out = [_svg_open(width, height, label, "column-chart")]
    for i, col in enumerate(columns):
        h = plot_h * col.value / peak if col.value else 0
        x = i * slot + slot * 0.12
        y = top_pad + plot_h - h
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" height="{h:.1f}" fill="{escape(col.colour)}">'
            f"<title>{escape(col.label)}: {col.value:g}</title></rect>"
            f'<text x="{x + slot * 0.38:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="bar-value">{col.value:g}</text>'
            f'<text x="{x + slot * 0.38:.1f}" y="{height - bottom + 14}" text-anchor="middle" class="axis-label">'
            f"{escape(col.label)}</text>"
        )
    if x_title:
        out.append(
            f'<text x="{width / 2:.0f}" y="{height - 4}" text-anchor="middle" class="axis-title">{escape(x_title)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], label: str, *, width: int = 560,
    height: int = 220,
) -> SafeString:  # fmt: skip
    """Several series over the same x labels (violations per week: opened, still open)."""
    left, bottom, top_pad, right = 36, 30, 14, 28
    n = max(len(labels), 2)
    peak = max((v for _, values, _ in series for v in values), default=0) or 1
    plot_w, plot_h = width - left - right, height - bottom - top_pad

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / (n - 1), top_pad + plot_h * (1 - v / peak)

    out = [_svg_open(width, height, label, "line-chart")]
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"></line>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis-label">{peak * frac:.0f}</text>'
        )
    step = max(1, len(labels) // 6)
    for i, text in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            x, _ = xy(i, 0)
            out.append(
                f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" class="axis-label">{escape(text)}</text>'
            )
    for j, (name, values, colour) in enumerate(series):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{escape(colour)}" stroke-width="2.5">'
            f"<title>{escape(name)}</title></polyline>"
        )
        for i, v in enumerate(values):
            x, y = xy(i, v)
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{escape(colour)}">'
                f"<title>{escape(name)} {escape(labels[i])}: {v:g}</title></circle>"
            )
        lx = left + 8 + j * 150
        out.append(
            f'<rect x="{lx}" y="2" width="12" height="4" fill="{escape(colour)}"></rect>'
            f'<text x="{lx + 16}" y="9" class="legend">{escape(name)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))


def met_missed_chart(groups: Sequence[tuple[str, int, int]], label: str, *, width: int = 560) -> SafeString:
    """Transparency indicators met vs missed per domain: one stacked bar per group."""
    row, label_w = 30, 120
    height = max(row * len(groups), row) + 22
    peak = max((met + missed for _, met, missed in groups), default=0) or 1
    span = width - label_w - 60
    out = [_svg_open(width, height, label, "met-missed-chart")]
    for i, (name, met, missed) in enumerate(groups):
        y = 4 + i * row
        w_met, w_missed = span * met / peak, span * missed / peak
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="bar-label">{escape(name)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w_met:.1f}" height="{row - 10}" class="met">'
            f"<title>{escape(name)}: {met} met</title></rect>"
            f'<rect x="{label_w + w_met:.1f}" y="{y + 4}" width="{w_missed:.1f}" height="{row - 10}" class="missed">'
            f"<title>{escape(name)}: {missed} missed</title></rect>"
            f'<text x="{label_w + w_met + w_missed + 6:.1f}" y="{y + 17}" class="bar-value">{met}/{met + missed}</text>'
        )
    y = height - 8
    out.append(
        f'<rect x="{label_w}" y="{y - 9}" width="12" height="10" class="met"></rect>'
        f'<text x="{label_w + 16}" y="{y}" class="legend">met</text>'
        f'<rect x="{label_w + 60}" y="{y - 9}" width="12" height="10" class="missed"></rect>'
        f'<text x="{label_w + 76}" y="{y}" class="legend">missed</text>'
    )
    out.append("</svg>")
    return mark_safe("".join(out))

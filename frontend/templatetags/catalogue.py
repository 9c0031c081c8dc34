"""Template helpers: licence-class badges and labels, commercial-use wording, compact numbers."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from frontend import vocab

register = template.Library()


@register.filter
def class_label(value: str | None) -> str:
    return vocab.class_label(value)


@register.filter
def class_colour(value: str | None) -> str:
    return vocab.class_colour(value)


@register.filter
def commercial_label(value: str | None) -> str:
    return vocab.COMMERCIAL_LABELS.get(value or "unknown", value or "")


@register.filter
def disclosure_label(value: int | None) -> str:
    return vocab.DISCLOSURE_LABELS.get(value, "not assessed") if value is not None else "not assessed"


@register.simple_tag
def class_badge(license_class: str | None) -> str:
    cls = license_class or "unknown"
    return format_html(
        '<span class="badge class-badge" style="--c:{}" data-class="{}">{}</span>',
        vocab.class_colour(cls),
        cls,
        vocab.class_label(cls),
    )


@register.filter
def compact(value: int | None) -> str:
    """12345 → 12.3k, like the Hub's counters."""
    n = int(value or 0)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def is_mapping(value) -> bool:
    return isinstance(value, dict)


@register.filter
def is_list(value) -> bool:
    return isinstance(value, list)

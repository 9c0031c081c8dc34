"""Model cards to safe HTML: front matter stripped, Markdown rendered, then sanitised by nh3.

Cards are written by anyone who can push (and by anyone upstream, for mirrors), so the
HTML that comes out of Markdown is untrusted: nh3 (ammonia) keeps a fixed allow-list of
tags and attributes, drops ``<script>``/``<style>`` with their content, removes every
``on*`` handler and ``javascript:`` URL, and adds ``rel="noopener nofollow"`` to links.
Raw HTML in cards is allowed through Markdown (the Hub allows it) precisely because the
sanitiser, not the Markdown parser, is the security boundary.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

from hub.blobstore import BlobStoreError, get_blob_store
from hub.models import Commit, RepoFile

#: Cards larger than this are truncated before rendering (a card is prose, not a data dump).
MAX_CARD_BYTES = 512 * 1024

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n.*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "code": {"class"},
    "ol": {"start"},
}

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable("strikethrough")


def strip_front_matter(text: str) -> str:
    """The card body without its YAML header (the metadata is shown in the licence panel instead)."""
    return _FRONT_MATTER.sub("", text, count=1)


def sanitise(html: str) -> str:
    """Allow-list sanitising; safe to mark as safe for templates."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
        strip_comments=True,
    )


_CARD_HEADING = re.compile(r"<(/?)h([1-6])\b")
_CARD_PRE = re.compile(r"<pre>")


def _demote(match: re.Match[str]) -> str:
    return f"<{match[1]}h{min(int(match[2]) + 2, 6)}"


def render_card(markdown_text: str) -> str:
    """Markdown card → sanitised HTML fragment.

    The card sits under the model page's own ``<h2>Model card</h2>``: its headings are moved
    two levels down (``#`` → ``<h3>``, deeper ones stop at ``<h6>``), so the page keeps one
    ``<h1>`` and a screen reader's heading list nests the card's sections under "Model card"
    instead of beside "Files" and "Revisions". Code blocks, which scroll sideways when a line
    is long, take keyboard focus (``tabindex="0"``) so they can be scrolled without a mouse.
    Both run on the sanitiser's output, whose tags are exactly the allowed ones.
    """
    html = sanitise(_markdown.render(strip_front_matter(markdown_text)))
    return _CARD_PRE.sub('<pre tabindex="0">', _CARD_HEADING.sub(_demote, html))


def read_card(commit: Commit | None) -> str | None:
    """The README.md text of ``commit`` from the blob store, or None when there is none."""
    if commit is None:
        return None
    readme = RepoFile.objects.filter(commit=commit, path__iexact="README.md").select_related("blob").first()
    if readme is None:
        return None
    try:
        with get_blob_store().open(readme.blob_id) as fh:
            data = fh.read(MAX_CARD_BYTES)
    except (BlobStoreError, OSError):
        return None
    return data.decode("utf-8", errors="replace")

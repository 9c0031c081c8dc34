"""Card rendering: Markdown in, sanitised HTML out — the security boundary for user-written cards."""

from __future__ import annotations

from frontend.cards import render_card, strip_front_matter


def test_front_matter_is_stripped_and_markdown_rendered():
    html = render_card("---\nlicense: mit\ntags: [a]\n---\n# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "license: mit" not in html
    assert "<h3>Title</h3>" in html  # under the page's own <h2>Model card</h2>
    assert "<table>" in html and "<td>1</td>" in html


def test_front_matter_only_at_the_start():
    text = "# Title\n\n---\nnot: front matter\n---\n"
    assert strip_front_matter(text) == text


def test_scripts_and_event_handlers_are_removed():
    html = render_card(
        '<script>alert(1)</script><img src="x.png" onerror="alert(2)">'
        '<div onclick="alert(3)" style="position:fixed">x</div><iframe src="https://e.example"></iframe>'
        "<style>body{display:none}</style>"
    )
    assert "<script" not in html and "alert(1)" not in html
    assert "onerror" not in html and "onclick" not in html and "style=" not in html
    assert "<iframe" not in html and "<style" not in html
    assert '<img src="x.png">' in html


def test_links_are_safe():
    html = render_card(
        '[x](javascript:alert(1)) <a href="JaVaScRiPt:alert(2)">y</a> [ok](https://example.org)'
    )
    assert (
        'href="javascript' not in html.lower()
    )  # the Markdown one stays inert text, the HTML one loses its href
    assert '<a rel="noopener nofollow">y</a>' in html
    assert '<a href="https://example.org" rel="noopener nofollow">ok</a>' in html


def test_data_urls_are_dropped():
    html = render_card('<a href="data:text/html,<script>alert(1)</script>">d</a>')
    assert "data:" not in html


def test_card_headings_nest_under_the_pages_model_card_heading():
    html = render_card("# Name\n\n## Uses\n\n###### Deep\n\n<h1 align='center'>Raw</h1>\n\n```\ncode\n```\n")
    assert "<h1" not in html and "<h2" not in html  # the page keeps its own h1 and h2 outline
    assert "<h3>Name</h3>" in html and "<h4>Uses</h4>" in html and "<h6>Deep</h6>" in html
    assert "Raw</h3>" in html
    assert '<pre tabindex="0">' in html  # a long code line scrolls sideways: reachable by keyboard

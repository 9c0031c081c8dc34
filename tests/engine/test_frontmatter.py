"""The card parser must never raise and must stay bounded on hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from licenses.engine.frontmatter import MAX_BODY_CHARS, MAX_DEPTH, MAX_YAML_CHARS, parse_front_matter

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"


def hostile(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


def test_plain_card():
    fm = parse_front_matter("---\nlicense: mit\ndatasets: [a, b]\n---\n# Title\n")
    assert fm.metadata == {"license": "mit", "datasets": ["a", "b"]}
    assert fm.body == "# Title\n"
    assert fm.problems == ()
    assert fm.raw_yaml == "license: mit\ndatasets: [a, b]\n"


def test_an_impossible_date_is_text_and_costs_the_card_nothing():
    """``2024-02-30`` looks like a YAML 1.1 timestamp; constructing it threw the whole front matter
    away, the licence with it. YAML 1.2 (and the Hub) read it as text."""
    fm = parse_front_matter("---\nlicense: mit\nreleased: 2024-02-30\nupdated: 2024-02-28\n---\n# x\n")
    assert not fm.problems and fm.metadata["license"] == "mit"
    assert fm.metadata["released"] == "2024-02-30" and str(fm.metadata["updated"]) == "2024-02-28"


def test_no_front_matter_keeps_text_as_body():
    fm = parse_front_matter("# Just a title\n---\nnot yaml\n")
    assert fm.metadata == {} and fm.raw_yaml is None
    assert fm.body.startswith("# Just a title")


def test_leading_blank_lines_allowed_like_huggingface_hub():
    assert parse_front_matter("\n\n---\nlicense: mit\n---\n").metadata == {"license": "mit"}


def test_empty_front_matter():
    fm = parse_front_matter("---\n---\nbody")
    assert fm.metadata == {} and fm.body == "body" and fm.problems == ()


def test_closing_fence_must_be_a_whole_line():
    fm = parse_front_matter("---\nlicense: mit\ndesc: |\n  ---- not a fence\n---\nbody")
    assert fm.metadata == {"license": "mit", "desc": "---- not a fence\n"}
    assert fm.body == "body"


def test_bom_and_crlf():
    fm = parse_front_matter(hostile("bom_crlf.md"))
    assert fm.metadata == {"license": "apache-2.0", "tags": ["crlf"]}
    assert fm.body == "# Title\nline two\n"
    assert fm.problems == ()


def test_bom_in_str_input():
    assert parse_front_matter("\ufeff---\nlicense: mit\n---\n").metadata == {"license": "mit"}


def test_tabs_in_indentation_are_recovered_and_reported():
    fm = parse_front_matter(hostile("tabs.md"))
    assert fm.metadata == {"license": "mit", "tags": ["tabbed"]}
    assert any("tabs" in p for p in fm.problems)


def test_non_utf8_is_decoded_with_replacement():
    fm = parse_front_matter(hostile("non_utf8.md"))
    assert fm.metadata["license"] == "mit"
    assert fm.metadata["author"] == "Jos\ufffd"
    assert any("UTF-8" in p for p in fm.problems)


def test_utf16_with_bom():
    fm = parse_front_matter("---\nlicense: mit\n---\nbody".encode("utf-16"))
    assert fm.metadata == {"license": "mit"}


@pytest.mark.parametrize("data", [hostile("binary.md"), "---\nlicense: mit\n---\n\x00\x00junk"])
def test_binary_content(data):
    fm = parse_front_matter(data)
    assert fm.metadata == {} and fm.body == ""
    assert "binary content" in fm.problems


def test_malformed_yaml_reports_parser_message():
    fm = parse_front_matter(hostile("malformed.md"))
    assert fm.metadata == {}
    assert any(p.startswith("invalid YAML:") and "flow sequence" in p for p in fm.problems)
    assert fm.body == "body\n"


def test_non_mapping_front_matter():
    fm = parse_front_matter(hostile("not_mapping.md"))
    assert fm.metadata == {}
    assert fm.problems == ("front matter is a list, not a mapping; ignored",)


def test_duplicate_keys_last_wins():
    fm = parse_front_matter(hostile("duplicate_keys.md"))
    assert fm.metadata == {"license": "apache-2.0"}
    assert fm.problems == ("duplicate keys (last value wins): license",)


def test_merge_keys_are_not_duplicates():
    fm = parse_front_matter("---\nbase: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n---\n")
    assert fm.metadata["c"] == {"x": 2}
    assert fm.problems == ()


def test_impossible_date_is_text_not_a_crash():
    fm = parse_front_matter(hostile("bad_date.md"))
    assert fm.metadata == {"license": "mit", "date": "2023-13-45"} and not fm.problems


def test_unclosed_front_matter_is_body():
    fm = parse_front_matter(hostile("unclosed.md"))
    assert fm.metadata == {}
    assert "never closed" in fm.problems[0]
    assert fm.body.startswith("---\nlicense: mit")


def test_alias_bomb_is_refused_quickly():
    start = time.perf_counter()
    fm = parse_front_matter(hostile("alias_bomb.md"))
    assert time.perf_counter() - start < 1.0
    assert fm.metadata == {}
    assert any("alias expansion exceeds" in p for p in fm.problems)
    assert fm.body == "# Billion laughs\n"


def test_recursive_alias_is_refused():
    fm = parse_front_matter(hostile("recursive_alias.md"))
    assert fm.metadata == {}
    assert fm.problems == ("front matter rejected: recursive alias",)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("a: !!python/object/apply:os.system ['true']", "could not determine a constructor"),
        ("n: " + "9" * 10_000, "Exceeds the limit"),
    ],
    ids=["python-tag", "huge-int"],
)
def test_unsafe_or_oversized_scalars_are_problems(yaml_text, message):
    fm = parse_front_matter(f"---\n{yaml_text}\n---\n")
    assert fm.metadata == {}
    assert any(message in p for p in fm.problems), fm.problems


def test_small_aliases_are_fine():
    fm = parse_front_matter("---\nbase: &b [1, 2]\ncopy: *b\n---\n")
    assert fm.metadata == {"base": [1, 2], "copy": [1, 2]}


@pytest.mark.parametrize(
    "yaml_text",
    [
        "a: " + "[" * 100_000 + "]" * 100_000,  # crashes libyaml's recursive composer unguarded
        "- " * 100_000 + "x",
        "? " * 100_000 + "x",
        "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)),
    ],
    ids=["flow", "block-seq", "explicit-keys", "indented-maps"],
)
def test_deep_nesting_is_refused(yaml_text):
    start = time.perf_counter()
    fm = parse_front_matter(f"---\n{yaml_text}\n---\nbody")
    assert time.perf_counter() - start < 2.0
    assert fm.metadata == {}
    assert fm.problems == (f"front matter rejected: nesting deeper than {MAX_DEPTH} levels",)


def test_nesting_within_limit_is_parsed():
    text = "a: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2)
    assert parse_front_matter(f"---\n{text}\n---\n").metadata["a"] is not None


def test_oversized_yaml_block_is_not_parsed():
    big = "---\nlicense: mit\n" + "k: v\n" * (MAX_YAML_CHARS // 5 + 10) + "---\nbody"
    fm = parse_front_matter(big)
    assert fm.metadata == {} and fm.body == "body"
    assert "not parsed" in fm.problems[0]


def test_twenty_megabyte_readme_is_bounded(tmp_path):
    path = tmp_path / "README.md"
    path.write_bytes(b"---\nlicense: mit\n---\n" + b"lorem ipsum dolor\n" * (20 * 1024 * 1024 // 18))
    start = time.perf_counter()
    fm = parse_front_matter(path.read_bytes())
    assert time.perf_counter() - start < 2.0
    assert fm.metadata == {"license": "mit"}
    assert len(fm.body) == MAX_BODY_CHARS
    assert any("only the first" in p for p in fm.problems)


@pytest.mark.parametrize("data", ["", b"", "---", "---\n", "\n", "---\n---", b"\xff\xfe", "--- \n:\n---\n"])
def test_degenerate_inputs_never_raise(data):
    fm = parse_front_matter(data)
    assert isinstance(fm.metadata, dict)


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("exceeded maximum nesting depth", f"front matter rejected: nesting deeper than {MAX_DEPTH} levels"),
        ("found unexpected end of stream", "invalid YAML:"),
    ],
)
def test_libyaml_refusing_deep_nesting_itself_reads_as_our_limit(monkeypatch, problem, expected):
    """Whichever libyaml PyYAML carries, its own depth refusal is reported as the nesting limit,
    and any other scanner error still as invalid YAML (libyaml here may or may not enforce a depth)."""
    import yaml

    from licenses.engine import frontmatter

    class Refusing(yaml.CSafeLoader):
        def check_event(self, *choices):
            raise yaml.scanner.ScannerError("while increasing flow level", None, problem, None)

    monkeypatch.setattr(frontmatter.yaml, "CSafeLoader", Refusing)
    deep = "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)  # deep enough to be measured by events
    fm = parse_front_matter(f"---\n{deep}\n---\nbody")
    assert fm.metadata == {}
    assert len(fm.problems) == 1 and fm.problems[0].startswith(expected)

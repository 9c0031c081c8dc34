"""The pipeline's fast paths around the stages answer exactly like the plain code they replace.

Text detection builds its token stream with byte-level C operations instead of one regex match
per token, folds ASCII case in the same pass when ``str.lower`` could not change anything else,
counts control characters without a regex step per character, and takes ASCII text as its own
NFKC form without the quick check; missing-notice case-folds the bytes of text whose only
non-ASCII characters fold to themselves. Snapshots read a file through a bare descriptor,
decode UTF-8 with a BOM without the codec's Python wrapper, take a file name's suffix without
building a ``Path``, and the CLI's discovery walks folders itself (keeping each repository's
listing for its snapshot) instead of through ``os.walk``. (Front-matter loading skipping the
composer's path-resolver bookkeeping is covered by test_frontmatter_fastpath's oracle, which
keeps PyYAML's own.) Each test compares the fast path with the plain one (the replaced code,
kept here verbatim) on generated edge cases and, when ``../shared/corpus`` is present, on real
texts and folders.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import unicodedata
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licenses.engine import frontmatter, snapshot, textdetect
from licenses.engine.rules import missing_notice
from licenses.engine.snapshot import discover_repos, discover_snapshots, snapshot_from_dir

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


# -- text detection ---------------------------------------------------------------------------


def _plain_normalize(text: str) -> str:
    """``normalize`` as it was: NFKC, lower-case, markup out, one regex match per token."""
    text = unicodedata.normalize("NFKC", text[: textdetect.MAX_CHARS]).lower().replace("\\", "")
    text = textdetect._LINK_TARGET.sub("] ", textdetect._HTML_TAG.sub(" ", text))
    return " " + " ".join(textdetect._TOKEN.findall(text)) + " "


def _plain_looks_binary(text: str) -> bool:
    head = text[:4096]
    return "\x00" in head or len(textdetect._CONTROL.findall(head)) > len(head) * 0.05


#: Token characters, the dots and ``+`` that decide token boundaries, capitals, markup, and the
#: characters whose lower case or NFKC form is ASCII, several characters or a separator.
_TEXT_CHARS = st.sampled_from(
    [*"ab9z0AZ.+ \n\t-_*#<>()[]\\/'\"", "1.0", "2.0beta", "v1.0.3", "3.1+", "a.1", "1..2", ".5", "c++", "x.y",
     "\u0130", "\u0131", "\u212a", "\u212b", "\u00df", "\u03a3", "\ufb01", "\uff21", "\u2460", "\u00b2",
     "e\u0301", "\u00a0", "\u3000", "\u4e00", "\uff0c", "\x00", "\x07", "\x1b", "\x0e", "\ud800", "\U0001f600"]
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(_TEXT_CHARS, max_size=60).map("".join))
def test_normalize_matches_the_plain_token_scan(text: str):
    assert textdetect.normalize(text) == _plain_normalize(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=80))
def test_normalize_matches_on_arbitrary_text(text: str):
    assert textdetect.normalize(text) == _plain_normalize(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Llama 3.",
        "v1.0beta and 1.2.3a, 1.2+.3 c++.5 x.5 +.5 a.b ..1 1.. end.",
        "**LLAMA 3.1** Community\r\nLicense",
        "[site](https://x.example/a_b) \u201cQuoted\u201d",
        "\u0130STANBUL Kelvin \u212a 3.1",  # str.lower makes ASCII of these two
        "Ｌｉｃｅｎｓｅ Ⅲ ﬁle 2\u00b2",
        "<a href='x'>Apache</a> License, Version 2.0",
    ],
)
def test_normalize_matches_on_edge_cases(text: str):
    assert textdetect.normalize(text) == _plain_normalize(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_nfkc_of_ascii_text_is_the_text(text: str):
    assert textdetect._nfkc(text) == unicodedata.normalize("NFKC", text) == text


@settings(max_examples=1000, deadline=None)
@given(st.lists(_TEXT_CHARS, max_size=300).map("".join))
def test_control_count_matches_the_regex(text: str):
    assert textdetect._count_controls(text) == len(textdetect._CONTROL.findall(text))
    assert textdetect.looks_binary(text) == _plain_looks_binary(text)


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    folder = CORPUS / "license-texts"
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_size < 600_000)
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in files]
    cards_dir = CORPUS / "model-cards"
    for path in sorted(cards_dir.glob("*/*")) if cards_dir.is_dir() else []:
        texts += [path.read_text(encoding="utf-8", errors="replace")] if path.is_file() else []
    cards = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if cards.is_file():
        with gzip.open(cards, "rt", encoding="utf-8") as handle:
            texts += [json.loads(line)["readme"] for line in islice(handle, 3000)]
    if not texts:
        pytest.skip(f"{CORPUS} not found")
    return texts


def test_normalize_and_binary_check_match_on_the_corpus():
    for text in _corpus_texts():
        assert textdetect.normalize(text) == _plain_normalize(text)
        assert textdetect.looks_binary(text) == _plain_looks_binary(text)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_TEXT_CHARS, max_size=60).map("".join))
def test_casefold_matches_str_casefold(text: str):
    assert missing_notice._casefold(text) == text.casefold()


def test_casefold_matches_on_the_corpus():
    for text in _corpus_texts():
        assert missing_notice._casefold(text) == text.casefold()


# -- snapshot pieces --------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([*"aL.x-_ ~", "md", "txt", "LICENSE", "\u0130"]), max_size=12).map("".join))
def test_suffix_and_terms_file_match_pathlib(name: str):
    assert snapshot._suffix(name) == Path(name).suffix
    plain = name != snapshot.README and Path(name).suffix.lower() in snapshot._TEXTUAL_SUFFIXES
    assert snapshot.is_terms_file(name) == (
        name.upper().startswith(snapshot._LICENSE_PREFIXES + snapshot._POLICY_PREFIXES)
        or (plain and bool(snapshot._LICENSE_WORD.search(name)))
    )


def _plain_decode(data: bytes) -> tuple[str, list[str]]:
    problems: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), ["README is UTF-16 encoded"]
    if b"\x00" in data[:8192]:
        problems.append("binary content")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        problems.append(f"not valid UTF-8 (first bad byte at offset {exc.start}); decoded with replacement")
    return text, problems


_BYTE_PIECES = st.sampled_from(
    [b"\xef\xbb\xbf", b"\xef\xbb", b"a", b"\x00", b"\xff", b"\xfe", b"\xc3\xa9", b"\xc3", b"\xe2\x82\xac",
     b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\n", b"\x00" * 9000]
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(_BYTE_PIECES, max_size=10).map(b"".join))
def test_decode_text_matches_the_utf8_sig_codec(data: bytes):
    assert frontmatter.decode_text(data) == _plain_decode(data)


@pytest.mark.parametrize("size", [0, 1, 5, 4096, 10_000])
@pytest.mark.parametrize("limit", [1, 6, 4097, 20_000])
def test_read_head_matches_a_buffered_read(tmp_path, size, limit):
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    with open(path, "rb") as handle:
        plain = handle.read(limit)
    assert snapshot._read_head(str(path), limit, size) == plain
    # a stat that promised more than the file holds (it shrank) reads on to the end
    assert snapshot._read_head(str(path), limit, size + 100) == plain


# -- discovery and snapshots ------------------------------------------------------------------


def _plain_discover(paths: list[Path]) -> list[tuple[str, Path]]:
    """``discover_repos`` as it was, on ``os.walk`` and ``Path`` objects."""

    def repo_folders(root: Path):
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            if snapshot.README in filenames:
                dirnames[:] = []
                yield Path(dirpath)
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))

    def repo_id(folder: Path, root: Path | None) -> str:
        name = folder.name
        owner, sep, rest = name.partition("__")
        if sep and snapshot._id_part(owner) and snapshot._id_part(rest):
            return f"{owner}/{rest}"
        if root is not None and folder != root:
            rel = folder.relative_to(root).parts
            if len(rel) >= 2 and snapshot._id_part(rel[-2]) and snapshot._id_part(rel[-1]):
                return f"{rel[-2]}/{rel[-1]}"
        return name

    found: dict[Path, str] = {}
    for path in paths:
        if path.is_file():
            folder = path.resolve().parent
            found.setdefault(folder, repo_id(folder, None))
            continue
        root = path.resolve()
        for folder in repo_folders(root):
            found.setdefault(folder, repo_id(folder, root))
    return sorted(((rid, folder) for folder, rid in found.items()), key=lambda pair: (pair[0], str(pair[1])))


def _same_snapshots(paths: list[Path]) -> None:
    plain = [snapshot_from_dir(folder, rid) for rid, folder in _plain_discover(paths)]
    fast = discover_snapshots(paths)
    assert [(s.id, dict(s.files), dict(s.texts), s.extra) for s in fast] == [
        (s.id, dict(s.files), dict(s.texts), s.extra) for s in plain
    ]


def _tree(tmp_path: Path) -> Path:
    """Repositories at several depths, hidden and symlinked folders, a README that is a folder,
    a nested README, links in and out, an unreadable folder."""
    root = tmp_path / "root"
    folders = ["org__a", "org/b", "deep/er/org/c", ".hidden/org__h", "plain", "x/readme-dir/README.md", "z"]
    for folder in folders:
        (root / folder).mkdir(parents=True)
    for folder in ["org__a", "org/b", "deep/er/org/c", ".hidden/org__h", "plain", "x"]:
        (root / folder / "README.md").write_text(f"---\nlicense: mit\n---\n# {folder}\n")
    (root / "org__a" / "LICENSE").write_text("MIT License\n" * 50)
    (root / "org__a" / "sub").mkdir()
    (root / "org__a" / "sub" / "README.md").write_text("# inside a repository\n")
    (root / "org__a" / "config.json").write_bytes(b'{"a": "\xff"}')
    (root / "plain" / "USE_POLICY.md").write_bytes(b"\xef\xbb\xbfpolicy\n")
    (root / "plain" / ".git").mkdir()
    (root / "plain" / ".git" / "README.md").write_text("# git internals\n")
    (root / "link-to-org").symlink_to(root / "org", target_is_directory=True)
    (root / "z" / "README.md").symlink_to(root / "plain" / "README.md")
    (root / "w").mkdir()
    (root / "w" / "README.md").symlink_to(root / "org", target_is_directory=True)  # not a README
    (root / "plain" / "LICENSE").symlink_to(root / "org__a" / "LICENSE")
    (root / "plain" / "NOTICE").symlink_to(tmp_path / "missing")
    (root / "locked").mkdir()
    (root / "locked" / "README.md").write_text("# locked\n")
    os.chmod(root / "locked", 0)
    return root


def test_discovery_and_snapshots_match_the_plain_walk(tmp_path):
    root = _tree(tmp_path)
    try:
        for paths in (
            [root],
            [root / "org__a"],
            [root / "org__a" / "README.md", root],
            [root / "deep", root / "deep" / "er", root / "link-to-org"],
            [root / "x", root / "z", root / ".hidden"],
        ):
            assert discover_repos(paths) == _plain_discover(paths)
            _same_snapshots(paths)
    finally:
        os.chmod(root / "locked", 0o755)


def test_discovery_and_snapshots_match_on_the_corpus():
    folder = CORPUS / "model-cards"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    assert discover_repos([folder]) == _plain_discover([folder])
    _same_snapshots([folder])
    some = sorted(folder.iterdir())[:20]
    assert discover_repos(some) == _plain_discover(some)
    _same_snapshots(some)


def test_discovery_walks_any_depth_of_folders(tmp_path):
    """The walk keeps a stack: folders nested deeper than Python's recursion limit (where the
    recursive ``os.walk`` of Python 3.11 raised ``RecursionError``) are walked like others."""
    folders = [tmp_path / "root"]
    folders[0].mkdir()
    try:
        for _ in range(1100):  # one level at a time: ``os.makedirs`` itself recurses
            folders.append(folders[-1] / "a")
            folders[-1].mkdir()
        (folders[-1] / "README.md").write_text("# deep\n")
        assert discover_repos([tmp_path / "root"]) == [("a/a", folders[-1])]
    finally:  # bottom up: ``shutil.rmtree``, which cleans ``tmp_path``, recurses too
        (folders[-1] / "README.md").unlink(missing_ok=True)
        for folder in reversed(folders):
            folder.rmdir()


def test_regex_oracles_are_the_module_patterns():
    """The plain versions above read the module's own patterns: make sure they are still regexes
    over the alphabet the fast paths assume (ASCII token characters, ASCII controls)."""
    assert textdetect._TOKEN.pattern == r"[a-z0-9+]+(?:\.[0-9]+)*"
    assert all(ord(c) < 128 for c in map(chr, range(0x110000)) if textdetect._CONTROL.match(c))
    assert isinstance(textdetect._TOKEN, re.Pattern)


def test_only_two_characters_lower_case_to_ascii():
    """``normalize`` skips ``str.lower`` unless one of ``_LOWER_TO_ASCII`` occurs: that is exact
    only while no other character lower-cases to ASCII or to more than one character."""
    to_ascii, longer = [], []
    for code in range(128, 0x110000):
        low = chr(code).lower()
        if any(ord(c) < 128 for c in low):
            to_ascii.append(chr(code))
        if len(low) != 1:
            longer.append(chr(code))
    assert tuple(to_ascii) == textdetect._LOWER_TO_ASCII
    assert longer == [textdetect._LOWER_TO_ASCII[0]]

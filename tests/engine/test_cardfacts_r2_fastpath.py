"""Round 2's card-fact shortcuts for typical (short, README-only) cards give what the plain code gives.

Each shortcut skips work that cannot find anything: ``read_weights`` with no weight file
and no shard index, the BibTeX scan of a body without ``@``, the linked-dataset generator
of a card without links, and the parameter-mention probe when the keyword index holds
neither keyword. Each is compared with the plain computation on hand-written inputs and,
when ``../shared/corpus`` is present, on real cards.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from licenses.engine import cardfacts, weights
from licenses.engine.card_sections import EVALUATION_SECTIONS
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.types import RepoSnapshot
from licenses.engine.weights import WeightsInfo, read_weights
from tests.engine.real_cards import real_readmes

BULK_SAMPLE = 2000


class _TruthyEmpty(list):
    """An empty list that tests true: ``read_weights`` then takes its plain path, finding nothing."""

    def __bool__(self) -> bool:
        return True


def _plain_weights(snapshot: RepoSnapshot, monkeypatch: pytest.MonkeyPatch) -> WeightsInfo:
    real = weights.weight_files
    with monkeypatch.context() as m:
        m.setattr(weights, "weight_files", lambda files: real(files) or _TruthyEmpty())
        return read_weights(snapshot)


WEIGHT_SNAPSHOTS = (
    RepoSnapshot(id="a/b", files={"README.md": 10}, texts={"README.md": "# x"}),
    RepoSnapshot(id="a/b", files={}, texts={}),
    RepoSnapshot(id="a/b", files={"README.md": 1, "config.json": 2}, texts={"config.json": "{}"}),
    RepoSnapshot(
        id="a/b",
        files={"model.safetensors.index.json": 5},
        texts={"model.safetensors.index.json": '{"metadata": {"total_size": 1234}}'},
    ),
    RepoSnapshot(
        id="a/b",
        files={"sub/model.safetensors.index.json": 5},
        texts={"sub/model.safetensors.index.json": '{"metadata": {"total_size": 7.5}}'},
    ),
    RepoSnapshot(
        id="a/b", files={"model-Q4_K_M.gguf": 9, "tokenizer.bin": 3, "pytorch_model.bin": 4}, texts={}
    ),
    RepoSnapshot(id="a/b", files={"MODEL.SAFETENSORS": 9}, texts={}),
)


@pytest.mark.parametrize("snapshot", WEIGHT_SNAPSHOTS)
def test_weights_without_weight_files_match_the_plain_reading(snapshot: RepoSnapshot, monkeypatch):
    fast, plain = read_weights(snapshot), _plain_weights(snapshot, monkeypatch)
    assert fast == plain
    assert fast.to_dict() == plain.to_dict()


def test_weights_records_do_not_share_their_dtypes():
    snapshot = WEIGHT_SNAPSHOTS[0]
    first, second = read_weights(snapshot), read_weights(snapshot)
    assert first == WeightsInfo()
    assert first.dtypes is not second.dtypes


BIBTEX_BODIES = (
    "",
    "no entries here",
    "mail me at a@b.c",
    "@misc{only,\n}",
    "@misc{x,\n}\n@Article {y}\n@MISC{z}",
    "@inproceedings{a}\n@book  {b}\n@conference{c} @ article{d}",
    "İ @techreport{e} @phdthesis{f} @incollection{g}",
)


def _plain_bibtex(body: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.lower() for t in cardfacts._BIBTEX.findall(body)))


@pytest.mark.parametrize("body", BIBTEX_BODIES)
def test_bibtex_types_match_the_plain_scan(body: str):
    assert cardfacts._bibtex_types(body) == _plain_bibtex(body)


MENTION_BODIES = (
    "",
    "a card with no such words",
    "Model size: 7B",
    "7B params",
    "PARAMETERS 3b",
    "x\n" * 1500,
)


@pytest.mark.parametrize("body", MENTION_BODIES)
def test_parameter_mentions_with_absent_keys_match_the_probe(body: str):
    low = body.lower()
    index = cardfacts._body_index(low)
    plain = tuple(
        (body[m.start() : m.end()][:80], low.count("\n", 0, m.start()) + 1)
        for m in itertools.islice(cardfacts._PARAM_MENTION.finditer(low), 5)
    )
    assert cardfacts._parameter_mentions(body, low, 0, index) == plain


def _plain_linked(facts: cardfacts.CardFacts) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            link.target
            for link in facts.links
            if link.kind == "hf-dataset" and link.target and link.section not in EVALUATION_SECTIONS
        )
    )


def test_linked_datasets_match_the_plain_reading():
    for text in ("no links", "## Training Data\nhttps://huggingface.co/datasets/a/b\n## Evaluation\n"
                 "https://huggingface.co/datasets/c\n"):  # fmt: skip
        snapshot = RepoSnapshot(id="a/b", files={"README.md": len(text)}, texts={"README.md": text})
        facts = cardfacts.facts_from_snapshot(snapshot)
        assert facts.linked_datasets == _plain_linked(facts)


# --- corpus -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_readmes(corpus_dir: Path) -> list[str]:
    return real_readmes(corpus_dir, BULK_SAMPLE)


def test_shortcuts_on_real_cards(corpus_readmes: list[str], monkeypatch: pytest.MonkeyPatch):
    for readme in corpus_readmes:
        snapshot = RepoSnapshot(id="a/b", files={"README.md": len(readme)}, texts={"README.md": readme})
        front = parse_front_matter(readme)
        body = front.body or ""
        assert cardfacts._bibtex_types(body) == _plain_bibtex(body)
        facts = cardfacts.extract_facts(snapshot, front)
        assert facts.linked_datasets == _plain_linked(facts)
        assert facts.weights == _plain_weights(snapshot, monkeypatch)

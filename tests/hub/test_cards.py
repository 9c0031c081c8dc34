"""Card metadata stored on repositories is JSON-safe whatever the YAML holds."""

from __future__ import annotations

import json

from hub.services.cards import card_data


def test_non_finite_numbers_become_strings():
    meta = card_data(
        "---\nlicense: mit\nmodel-index:\n- results:\n  - metrics:\n    - value: .nan\n    - value: -.inf\n---\n"
    )
    values = [m["value"] for m in meta["model-index"][0]["results"][0]["metrics"]]
    assert values == ["nan", "-inf"]
    assert meta["license"] == "mit"
    json.dumps(meta, allow_nan=False)  # what the database's JSON columns accept


def test_dates_and_absent_cards():
    assert card_data("---\ndate: 2024-05-30\n---\n") == {"date": "2024-05-30"}
    assert card_data(None) == {}


def test_aliases_of_a_long_string_do_not_become_megabytes_of_card_data():
    """40,000 aliases of one 200-character string fit a 160 kB front matter; ``cardData``, stored
    per repository and served in every listing that asks for it, expanded them to 8 MB. The block
    is refused by the parser's alias budget, so nothing of it is stored."""
    from hub.services.cards import card_data_json

    readme = f"---\nlicense: mit\ntags: [&a {'x' * 200}, {', '.join(['*a'] * 40_000)}]\n---\n# m\n"
    data, text = card_data_json(readme)
    assert data == {} and text == "{}"


def test_many_distinct_tags_keep_their_order_once_each():
    """Order and de-duplication of ``derive_tags`` with a set beside the list (a list's ``in`` was
    quadratic: 28,000 distinct ``license`` items cost 3.3 s of CPU in the commit; not timed here)."""
    from hub.services.cards import derive_tags

    ids = [f"zz{i}" for i in range(2_000)]
    meta = card_data(f"---\nlicense: [{', '.join(ids + ids)}]\ntags: [a, b, a]\n---\n")
    assert derive_tags(meta, ["m.safetensors"]) == ["safetensors", "a", "b", *(f"license:{i}" for i in ids)]

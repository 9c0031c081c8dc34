from licenses.engine.rules import missing_license as rule
from tests.engine.rules.helpers import ctx


def test_fires_without_metadata_or_file():
    found = rule.check(ctx(key="none", metadata={"language": ["en"]}))
    assert [v.rule for v in found] == ["missing-license"]
    assert found[0].severity == "error"


def test_metadata_licence_clears_it():
    assert rule.check(ctx(key="mit")) == []


def test_licence_file_clears_it_even_in_a_subfolder():
    assert rule.check(ctx(key="none", metadata={}, files={"README.md": 1, "LICENSE": 10})) == []
    assert rule.check(ctx(key="none", metadata={}, files={"README.md": 1, "meta/LICENSE.txt": 10})) == []


def test_card_link_to_shipped_licence_file_clears_it():
    body = "## License\n[LICENSE.txt](meta-license/LICENSE.txt)\n"
    assert rule.check(ctx(key="none", metadata={}, body=body)) == []


def test_prose_only_licence_still_fires():
    body = "Use of this model is governed by the [Meta license](https://ai.meta.com/llama/license)."
    assert len(rule.check(ctx(key="none", metadata={}, body=body))) == 1


def test_license_none_is_no_licence_declared():
    """``license: none`` says there is none: the finding stands (nobody may use the model), with
    the card's own words as evidence; a licence file still clears it."""
    found = rule.check(ctx(key="none", metadata={"license": "none"}))
    assert [v.rule for v in found] == ["missing-license"]
    assert found[0].evidence[0].detail == "license: none"
    assert rule.check(ctx(key="none", metadata={"license": "none"}, files={"LICENSE": 10})) == []

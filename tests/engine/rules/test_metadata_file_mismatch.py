from licenses.engine.rules import metadata_file_mismatch as rule
from tests.engine.rules.helpers import ctx


def test_each_conflict_is_reported():
    conflicts = [{"metadata": "apache-2.0", "file": "mit", "path": "LICENSE", "detail": "MIT text"}]
    found = rule.check(ctx(key="apache-2.0", conflicts=conflicts))
    assert [(v.rule, v.severity) for v in found] == [("metadata-file-mismatch", "error")]
    assert "LICENSE" in found[0].message and any(e.source == "file:LICENSE" for e in found[0].evidence)


def test_no_conflict_no_finding():
    assert rule.check(ctx(key="apache-2.0")) == []

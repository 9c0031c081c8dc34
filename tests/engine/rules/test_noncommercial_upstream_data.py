from licenses.engine.rules import noncommercial_upstream_data as rule
from tests.engine.rules.helpers import ctx

NC = {"id": "org/nc-data", "license": "cc-by-nc-4.0", "commercial": "no"}


def test_commercial_licence_over_nc_dataset():
    found = rule.check(ctx(key="apache-2.0", datasets=[NC]))
    assert [(v.rule, v.severity, v.parent) for v in found] == [
        ("noncommercial-upstream-data", "error", "org/nc-data")
    ]


def test_conditional_commercial_counts_too():
    assert len(rule.check(ctx(key="llama3.1", datasets=[NC]))) == 1


def test_nc_model_or_unknown_data_passes():
    assert rule.check(ctx(key="cc-by-nc-4.0", datasets=[NC])) == []
    assert (
        rule.check(
            ctx(key="apache-2.0", datasets=[{"id": "org/d", "license": None, "commercial": "unknown"}])
        )
        == []
    )

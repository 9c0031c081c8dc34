from licenses.engine.rules import unsafe_serialization as rule
from tests.engine.rules.helpers import ctx


def test_dangerous_pickle_is_an_error():
    scan = [
        {
            "path": "pytorch_model.bin",
            "contains_pickle": True,
            "dangerous": ["os.system"],
            "scanner": "picklescan",
        }
    ]
    found = rule.check(ctx(scan=scan))
    assert [(v.rule, v.severity) for v in found] == [("unsafe-serialization", "error")]
    assert "os.system" in found[0].message


def test_safe_pickle_and_safetensors_pass():
    scan = [
        {"path": "pytorch_model.bin", "contains_pickle": True, "dangerous": [], "scanner": "picklescan"},
        {"path": "model.safetensors", "contains_pickle": False, "dangerous": [], "scanner": "header"},
    ]
    assert rule.check(ctx(scan=scan)) == []

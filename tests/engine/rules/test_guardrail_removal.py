import pytest

from licenses.engine.rules import guardrail_removal as rule
from tests.engine.rules.helpers import ctx, parent

NV = "nvidia/Llama-3.1-Nemotron-Nano-8B-v1"


@pytest.mark.parametrize(
    ("name", "tags", "body"),
    [
        ("someone/Nemotron-Nano-8B-abliterated", [], ""),
        ("someone/Nemotron-Nano-8B-Uncensored", [], ""),
        ("someone/Nemotron-Nano-8B-v2", ["abliterated"], ""),
        (
            "someone/Nemotron-Nano-8B-v2",
            [],
            "We removed the safety guardrails with a refusal-direction edit.",
        ),
    ],
)
def test_guardrail_removed_derivative_of_nvidia_model_D21(name, tags, body):
    c = ctx(
        child_id=name,
        key="nvidia-open-model-license",
        metadata={"tags": tags},
        body=body,
        parents=[parent(NV, "nvidia-open-model-license")],
    )
    found = rule.check(c)
    assert [(v.rule, v.severity, v.parent) for v in found] == [("guardrail-removal", "error", NV)]


def test_abliterated_derivative_of_other_licence_is_not_this_rule():
    c = ctx(child_id="someone/Qwen3-8B-abliterated", parents=[parent("Qwen/Qwen3-8B", "apache-2.0")])
    assert rule.check(c) == []


def test_plain_nvidia_finetune_passes():
    c = ctx(
        child_id="someone/Nemotron-Nano-8B-medical",
        key="nvidia-open-model-license",
        parents=[parent(NV, "nvidia-open-model-license")],
    )
    assert rule.check(c) == []

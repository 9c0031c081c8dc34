import pytest

from licenses.engine.rules import naming_requirement as rule
from tests.engine.rules.helpers import ctx, parent


@pytest.mark.parametrize("name", ["dolphin-2.9-llama3-8b", "L3-8B-Stheno-v3.2", "Hermes-3-8B"])
def test_llama3_derivative_without_prefix(name):
    found = rule.check(
        ctx(
            child_id=f"someone/{name}", key="llama3", parents=[parent("meta-llama/Meta-Llama-3-8B", "llama3")]
        )
    )
    assert [(v.rule, v.severity) for v in found] == [("naming-requirement", "error")]
    assert '"Llama 3"' in found[0].message


@pytest.mark.parametrize(
    "name", ["Llama-3-8B-dolphin", "llama3-8b-ko", "LLaMA_3_Instruct-tuned", "Meta-Llama-3-8B-Instruct-GGUF"]
)
def test_llama3_prefix_variants_pass(name):
    assert (
        rule.check(
            ctx(
                child_id=f"someone/{name}",
                key="llama3",
                parents=[parent("meta-llama/Meta-Llama-3-8B", "llama3")],
            )
        )
        == []
    )


def test_llama31_requires_llama_not_llama31():
    p = [parent("meta-llama/Llama-3.1-8B", "llama3.1")]
    assert rule.check(ctx(child_id="x/Llama-Nemo-8B", key="llama3.1", parents=p)) == []
    assert len(rule.check(ctx(child_id="x/Nemo-Llama-8B", key="llama3.1", parents=p))) == 1
    # "Llamafied" is not the word "Llama"
    assert len(rule.check(ctx(child_id="x/Llamafied-8B", key="llama3.1", parents=p))) == 1


def test_llama3_prefix_is_not_satisfied_by_llama2_or_31_names():
    p = [parent("meta-llama/Meta-Llama-3-8B", "llama3")]
    assert len(rule.check(ctx(child_id="x/Llama-2-style-8B", key="llama3", parents=p))) == 1


def test_embedded_parent_owner_is_stripped():
    p = [parent("SomeAuthor/Llama-3.2-8X3B-MOE", "llama3.2", "quantized")]
    assert (
        rule.check(ctx(child_id="quantizer/SomeAuthor.Llama-3.2-8X3B-MOE-GGUF", key="llama3.2", parents=p))
        == []
    )


def test_quantized_copy_of_noncompliant_parent_is_the_parents_fault():
    p = [parent("author/L3-8B-Stheno-v3.2", "llama3", "quantized")]
    assert rule.check(ctx(child_id="quantizer/L3-8B-Stheno-v3.2-GGUF", key="llama3", parents=p)) == []


def test_no_prefix_obligation_no_check():
    assert (
        rule.check(
            ctx(child_id="x/whatever", key="llama2", parents=[parent("meta-llama/Llama-2-7b-hf", "llama2")])
        )
        == []
    )


def test_quantized_copy_keeping_the_parent_name_passes_renamed_copy_fails():
    p = [parent("meta-llama/Llama-3.1-8B-Instruct", "llama3.1", "quantized")]
    assert rule.check(ctx(child_id="q/Meta-Llama-3.1-8B-Instruct-GGUF", key="llama3.1", parents=p)) == []
    assert len(rule.check(ctx(child_id="q/SuperChat-8B-GGUF", key="llama3.1", parents=p))) == 1

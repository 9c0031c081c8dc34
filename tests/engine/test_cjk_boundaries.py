"""English-token prose rules beside CJK text: ASCII-aware word boundaries.

Chinese and Japanese cards write ASCII terms (sizes, GPU names, dataset and framework names)
with no space around them. Python's ``\\b`` counts CJK characters as word characters, so
"22GB预训练数据" stated no size and "在8张A100上训练" no hardware, while the same sentences
with spaces did. Each fixture below is written for this test; its spaced twin is the control.
"""

from __future__ import annotations

import re

import pytest

from licenses.engine.disclosure import assess_disclosure
from licenses.engine.transparency import assess_transparency
from tests.engine.test_cardfacts import facts_for


def _met(body: str, indicator: str) -> bool:
    result = assess_transparency(facts_for(f"# 模型\n\n{body}", repo_id="acme/widget"))
    return {i["id"]: i for i in result["indicators"]}[indicator]["met"]


@pytest.mark.parametrize(
    ("body", "indicator"),
    [
        ("## Training Data\n\n我们使用了22GB预训练数据进行继续预训练。\n", "data-size"),
        ("## Training Data\n\n指令微调数据共120k instructions用于指令微调阶段。\n", "data-size"),
        ("## Training Data\n\n数据来自C4和OSCAR语料的中文部分，经过清洗。\n", "data-sources"),
        ("## Training Data\n\n数据来自mc4中文子集，经过清洗和去重处理。\n", "data-sources"),
        ("## Training procedure\n\n模型在8张A100上训练了大约三天时间。\n", "compute-hardware"),
        ("## Training procedure\n\n训练使用了H800集群，共3天。\n", "compute-hardware"),
        ("## Training procedure\n\n训练共耗电1200kWh。\n", "energy-usage"),
        ("## Training procedure\n\n训练总计算量约为3e21FLOPs左右的规模。\n", "compute-usage"),
        ("## Training procedure\n\n我们使用DeepSpeed和PyTorch训练。\n", "core-frameworks"),
    ],
)
def test_english_tokens_count_beside_cjk_characters(body: str, indicator: str):
    assert _met(body, indicator) is True
    # and the rule says the same of the spaced form (the control the old code passed)
    spaced = re.sub(r"([A-Za-z0-9]+)", r" \1 ", body)
    assert _met(spaced, indicator) is True


@pytest.mark.parametrize(
    "body",
    [
        # a different ASCII word that contains the token: still no match
        "## Training procedure\n\n训练使用了xa100和ha100集群。\n",
        "## Training procedure\n\n使用gpt4a作为教师模型训练。\n",
    ],
)
def test_tokens_inside_ascii_words_still_do_not_count(body: str):
    assert _met(body, "compute-hardware") is False


def test_training_data_beside_cjk_text_is_described():
    """Size and time range written into a Chinese sentence reach "described" (level 2)."""
    card = "---\nlicense: mit\n---\n# 模型\n\n## Training Data\n\n我们使用了22GB中文语料，数据截至2023年。\n"
    result = assess_disclosure(facts_for(card))
    assert result["descriptors"] == {"size": "22gb", "time_range": "2023"}
    assert result["disclosure_level"] == 2


def test_gpu_memory_beside_cjk_text_is_not_a_data_size():
    """The accelerator exclusion follows the size rule: "A100 80GB" is still memory."""
    card = "---\nlicense: mit\n---\n# 模型\n\n## Training Data\n\n模型在A100 80GB上训练了大约三天时间。\n"
    assert "size" not in assess_disclosure(facts_for(card))["descriptors"]

"""Cards written in other languages: their headings name the same template sections.

Before ``FOREIGN_SECTION_PATTERNS`` the heading normaliser kept ASCII letters only, so
"## 训练数据" or "## ライセンス" opened no section, a bilingual "简介 Brief Introduction"
was read as "brief introduction" alone, and "Résultats de l'évaluation" lost its accented
letters. The cards below are written for these tests; the corpus test reads a real
Chinese card from ``../shared/corpus`` and skips when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from licenses.engine.card_sections import canonical_sections, fold_heading, normalise_heading
from licenses.engine.cardfacts import facts_from_snapshot
from licenses.engine.disclosure import assess_disclosure
from licenses.engine.snapshot import snapshot_from_dir
from licenses.engine.transparency import assess_transparency
from licenses.engine.types import RepoSnapshot

NAMED = [
    # Chinese, simplified and traditional
    ("训练数据", "Training Data"),
    ("訓練數據", "Training Data"),
    ("训练细节", "Training Details"),
    ("局限性", "Bias, Risks, and Limitations"),
    ("免责声明", "Bias, Risks, and Limitations"),
    ("许可证", "License"),
    ("版權許可", "License"),
    ("引用", "Citation"),
    ("模型评测", "Evaluation"),
    ("快速开始", "How to Get Started"),
    ("项目简介", "Model Details"),
    ("1. 训练数据", "Training Data"),
    ("<span id='x'>局限性（Limitations）</span>", "Bias, Risks, and Limitations"),
    # a bilingual heading whose English half names no section
    ("简介 Brief Introduction", "Model Details"),
    # Japanese
    ("ライセンス", "License"),
    ("学習データ", "Training Data"),
    ("想定される用途", "Uses"),
    ("想定されない用途", "Out-of-Scope Use"),
    ("モデルの限界やバイアス", "Bias, Risks, and Limitations"),
    ("環境への影響", "Environmental Impact"),
    ("評価結果", "Results"),
    ("モデル・アーキテクチャ", "Model Architecture"),
    # Korean
    ("학습 데이터", "Training Data"),
    ("라이선스", "License"),
    ("사용 방법", "How to Get Started"),
    ("한계", "Bias, Risks, and Limitations"),
    # European languages, with and without their accents
    ("Trainingsdaten", "Training Data"),
    ("Einschränkungen", "Bias, Risks, and Limitations"),
    ("Lizenz", "License"),
    ("Données d'entraînement", "Training Data"),
    ("Résultats de l'évaluation", "Evaluation"),
    ("Datos de entrenamiento", "Training Data"),
    ("Limitaciones y sesgos", "Bias, Risks, and Limitations"),
    ("Licença", "License"),
    ("Dati di addestramento", "Training Data"),
    ("Лицензия", "License"),
    ("Данные для обучения", "Training Data"),
    ("Ограничения", "Bias, Risks, and Limitations"),
    # a heading that is only "dataset(s)", as the English "^datasets?$"
    ("数据集", "Training Data"),
    ("データセット", "Training Data"),
    ("데이터셋", "Training Data"),
    ("Datensätze", "Training Data"),
    ("Conjunto de datos", "Training Data"),
    ("微调数据集", "Training Data"),
    ("使用限制", "Bias, Risks, and Limitations"),
    ("开源协议", "License"),
    # "inference" alone, as transparency.md says of 推理 and 추론 (推理 had no whole-heading entry)
    ("推理", "How to Get Started"),
    ("추론", "How to Get Started"),
]


@pytest.mark.parametrize(("heading", "section"), NAMED)
def test_a_heading_in_another_language_names_its_section(heading: str, section: str):
    assert section in canonical_sections.__wrapped__(heading)


NOT_NAMED = [
    # what the model must not be used for is not its uses
    ("使用してはいけない用途や悪意のある用途", "Uses"),
    # test data is not training data
    ("评测数据集", "Training Data"),
    # datasets of an evaluation, results on datasets, loading a dataset: no training-data disclosure
    # (the English table's "^datasets?$" is anchored: "Benchmark datasets" is Evaluation only)
    ("评测基准数据集", "Training Data"),
    ("ベンチマークデータセット", "Training Data"),
    ("各数据集上的效果", "Training Data"),
    ("Datensätze für die Evaluierung", "Training Data"),
    ("Набор данных для оценки", "Training Data"),
    ("Загрузка датасета", "Training Data"),
    # a length limit is no limitations section, a protocol no licence ("limit", "protocol")
    ("上下文长度限制", "Bias, Risks, and Limitations"),
    ("길이 제한", "Bias, Risks, and Limitations"),
    ("HTTP协议调用", "License"),
    # a title that mentions inference, a gallery of generated samples, a precision setting
    ("한국어 NER 추론 모델", "How to Get Started"),
    ("数学推理能力", "How to Get Started"),  # 推理 is also "reasoning": only the whole heading counts
    ("更多生成结果 More Results", "Results"),
    ("半精度 Half precision FP16", "Results"),
    # English headings the foreign words must not catch
    ("Model performances", "Results"),
    ("presentation_emotion_42", "Model Details"),
    ("Model Card for X", None),
    ("Llama 3.1 8B", None),
]


@pytest.mark.parametrize(("heading", "section"), NOT_NAMED)
def test_look_alike_headings_name_nothing_more(heading: str, section: str | None):
    names = canonical_sections.__wrapped__(heading)
    if section is None:
        assert names == ()
    else:
        assert section not in names


def test_folding_keeps_every_script_and_drops_latin_accents():
    assert fold_heading("Résultats de l'Évaluation") == "resultats de l'evaluation"
    assert fold_heading("データセット（Dataset）") == "データセット dataset"  # kana keep their voicing marks
    assert fold_heading("## 학습 데이터 🚀") == "학습 데이터"
    # the English table's normaliser reads the accented words too, and still only ASCII
    assert normalise_heading("Résultats de l'évaluation") == "resultats de l'evaluation"
    assert normalise_heading("引用 Citation") == "citation"


CARD = """---
license: apache-2.0
language: [zh]
---
# 示例模型

## 简介
这是一个用于中文客服问答的对话模型，由示例团队在开源基座模型上微调得到。

## 训练数据
微调使用了约五十万条中文客服对话，均由人工整理并去除了个人信息。

## 局限性
模型可能生成不准确的回答，不应用于医疗或法律建议。

## 许可证
本模型以 Apache 2.0 许可证发布。

## 引用
如果本模型对您有帮助，请引用我们的技术报告。
"""


def _snapshot(readme: str) -> RepoSnapshot:
    return RepoSnapshot(
        id="acme/zh-chat", files={"README.md": len(readme.encode())}, texts={"README.md": readme}
    )


def test_a_chinese_card_discloses_what_it_writes():
    facts = facts_from_snapshot(_snapshot(CARD))
    assert set(facts.present_sections) >= {
        "Model Details", "Training Data", "Bias, Risks, and Limitations", "License", "Citation",
    }  # fmt: skip
    data = assess_disclosure(facts)
    assert data["disclosure_level"] >= 1  # a training-data section with content
    met = {i["id"]: i for i in assess_transparency(facts, disclosure=data)["indicators"] if i["met"]}
    assert "limitations-description" in met
    assert "centralized-documentation" in met


def test_a_real_chinese_card(corpus_dir: Path):
    folder = corpus_dir / "model-cards" / "YeungNLP__firefly-llama2-13b-chat"
    if not folder.is_dir():
        pytest.skip(f"{folder} not in the corpus")
    facts = facts_from_snapshot(snapshot_from_dir(folder, "YeungNLP/firefly-llama2-13b-chat"))
    assert {"Training Data", "Training Details", "Evaluation", "Bias, Risks, and Limitations"} <= set(
        facts.present_sections
    )
    # the data table names Hub datasets, sizes and sources: described, not only identified
    assert assess_disclosure(facts)["disclosure_level"] >= 2

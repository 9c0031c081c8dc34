"""Card outline: headings mapped onto the Hub template's sections, and what counts as written.

Real cards rarely use the Hub template's headings verbatim ("Limitations and Bias",
"Intended uses & limitations", "Carbon Emissions", "BibTeX"), so headings are mapped
onto the template's section names through a synonym table; Meta-style cards that use
bold labels ("**Training Data** ...") instead of headings are read the same way. A
section holding only template placeholders ("[More Information Needed]") counts as
absent, because an unfilled template discloses nothing.
"""

from __future__ import annotations

import functools
import operator
import re
import re._constants as _sre_constants  # the parsed form of a pattern, to read its literals
import re._parser as _sre_parser
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import ahocorasick_rs

from licenses.engine.card_metadata import frozen_record

#: Canonical names follow huggingface_hub's ``modelcard_template.md`` (hf-hub-api.md §5.2);
#: ``License``, ``Changelog``, ``Prompt Format`` and ``Quantization`` are additions that
#: transparency indicators need. A heading maps to every canonical whose pattern matches,
#: so "Evaluation Results" counts as Evaluation and Results, "Intended uses & limitations"
#: as Uses and Bias Risks and Limitations.
SECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Model Card Authors", r"^(model )?card authors?\b|^authors?$"),
    (
        "Contact",
        r"contact|feedback|questions?$|reach (out|us)|^support$|^community$|report(ing)? (issues|bugs)",
    ),
    ("Out-of-Scope Use", r"out.of.scope|misuse|prohibited|not intended|malicious use|inappropriate use"),
    ("Downstream Use", r"downstream use|fine.?tuning use"),
    ("Direct Use", r"^direct use"),
    ("Recommendations", r"^recommendations?$|^responsible (use|deployment)"),
    ("Training Details", r"^training details$|^training$|^model training$"),
    (
        "Training Data",
        r"training (and evaluation )?(data|dataset|corpus|corpora)|(pre|post|fine).?training data"
        r"|^datasets?( used)?$|^data$|^data ?(sources?|overview|collection|mixture|card)"
        r"|^(pretraining|instruction|fine.?tuning) datasets?|^corpus$|data freshness|^dataset details",
    ),
    (
        "Testing Data, Factors & Metrics",
        r"testing data|evaluation (data|datasets?)|test (data|set)|^factors$|^metrics$|and evaluation data",
    ),
    (
        "Training Procedure",
        r"training (procedure|process|setup|recipe|method|regime|configuration|objective|hyper.?parameters)"
        r"|^hyper.?parameters|^preprocessing|^(pre|fine).?training$|^fine.?tuning( details| procedure)?$"
        r"|training results|speeds, sizes, times",
    ),
    ("Environmental Impact", r"environmental|carbon|co2|co<sub>2|emissions|energy|footprint"),
    (
        "Results",
        r"^results?$|evaluation results|benchmark results|^performance|^scores$|leaderboard|^benchmarks?$"
        r"|^summary$",
    ),
    ("Evaluation", r"evaluation|^eval|benchmark|^performance"),
    (
        "Bias, Risks, and Limitations",
        r"\bbias(es)?\b|\brisks?\b|limitations?|ethic|safety|caveats?|disclaimer|harms?$|responsibility",
    ),
    ("Uses", r"^(intended |primary |direct |downstream )?uses?\b|intended use|use cases?|^model use$"),
    (
        "How to Get Started",
        r"how to (get started|use|run|load)|get(ting)? started|^usage|quick ?start|^inference|example usage"
        r"|^use with|^running|^sample code|^code example|^how to download|^installation",
    ),
    ("Model Architecture", r"architecture|model structure"),
    (
        "Compute Infrastructure",
        r"compute infrastructure|^hardware|^software|^compute|infrastructure|framework versions",
    ),
    ("Technical Specifications", r"technical spec|^specifications?$"),
    ("Citation", r"citation|^cite|bibtex|^references?$|^how to cite|^research paper|^paper$"),
    ("Glossary", r"glossary"),
    ("More Information", r"^more information|additional information|further information"),
    ("License", r"licen[sc]e|licensing|terms of use"),
    ("Changelog", r"change ?log|^changes$|^updates?$|release notes|what'?s new|^news$|version history"),
    ("Prompt Format", r"prompt (format|template)|chat (template|format)|system prompt"),
    ("Quantization", r"quanti[sz]|provided files|^gguf"),
    ("Model Description", r"model description|^description$|^model summary|^model type|^what is"),
    (
        "Model Details",
        r"model details|model (information|info|overview|card)$|^about( the model| this model)?$|^overview$"
        r"|^introduction$|^model$|^details$|^model summary|^model dates?$|^status$",
    ),
    ("Model Sources", r"model sources|^sources$|^links$|^resources$|^repository$|^paper and resources"),
)
_SECTION_RES = tuple((name, re.compile(pat)) for name, pat in SECTION_PATTERNS)

#: The same template sections named in other languages: Chinese (simplified and traditional),
#: Japanese, Korean, German, French, Spanish, Portuguese, Italian and Russian. Matched on the
#: heading folded by :func:`fold_heading` (NFKC, lower case, accents of Latin letters dropped,
#: CJK/Hangul/Cyrillic kept), which the English table never sees: it reads the heading's ASCII
#: letters only, so "## 训练数据" was an unknown heading and "Résultats" lost its accented
#: letters. Bilingual headings ("引用 Citation") are answered by both tables. Words of Latin
#: scripts are bounded by ``\b`` and long unsegmented CJK terms are plain substrings; a
#: one-word CJK heading ("使用", "训练") is anchored like its English "^usage", "^training$".
FOREIGN_SECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Model Card Authors", r"^(作者|作成者|著者|작성자|저자|autoren|auteurs|autores|autori|авторы)$"),
    (
        "Contact",
        r"联系|聯繫|聯絡|问题反馈|問題反饋|技术交流|技術交流|反馈|反饋|連絡先|問い合わせ|フィードバック|연락|문의|피드백"
        r"|\b(kontakt|contacto|contato|contatti|contatto|контакты|обратная связь|связь с нами)\b",
    ),
    (
        "Out-of-Scope Use",
        r"不适用|不適用|禁止|误用|誤用|滥用|濫用|不应|不應|超出范围|想定されない|してはいけない|悪意|対象外"
        r"|범위 외|금지|오용|악용|\b(missbrauch|nicht vorgesehen\w*|hors (du )?(champ|cadre)|utilisation abusive"
        r"|mauvais usage|fuera del alcance|uso indebido|mal uso|fora do escopo|uso indevido|uso improprio"
        r"|недопустим\w*|запрещ\w*|злоупотреблени\w*)\b",
    ),
    ("Downstream Use", r"下游(使用|应用|應用)|下流(での)?(利用|使用)|다운스트림"),
    ("Direct Use", r"^直接(使用|利用)|^직접 사용"),
    (
        "Recommendations",
        r"^(建议|建議|推奨事項|推奨|권장 사항|권장)$|\b(empfehlungen|recommandations|recomendaciones|recomendacoes"
        r"|raccomandazioni|рекомендации)\b",
    ),
    (
        "Training Details",
        r"^(训练|訓練|学習|トレーニング|학습|훈련|模型训练|模型訓練)$|训练细节|训练详情|訓練細節|學習細節|学習の詳細"
        r"|학습 세부|\b(trainingsdetails|details de l'(entrainement|apprentissage)|detalles del entrenamiento"
        r"|detalhes do treinamento|dettagli dell'addestramento|детали обучения)\b"
        r"|^(l'|el )?(entrainement|apprentissage|entrenamiento|treinamento|treino|addestramento|обучение)$",
    ),
    (
        "Training Data",
        r"训练数据|訓練數據|训练集|訓練集|训练语料|訓練語料|预训练数据|預訓練數據|微调数据|微調數據"
        r"|数据来源|數據來源|数据列表|^数据$|学習データ|訓練データ|トレーニングデータ|学習に使"
        r"|학습 ?데이터|훈련 ?데이터|\b(trainingsdaten|trainingsdatensatz|donnees d'(entrainement"
        r"|apprentissage)|datos de entrenamiento|dados de (treinamento|treino)"
        r"|dati di addestramento|обучающ\w* (данные|выборка)|данные для обучения)\b"
        # "dataset(s)" alone, anchored as the English "^datasets?( used)?$": in a longer heading it
        # is as often the benchmark's ("评测基准数据集", "Datensätze für die Evaluierung"), the
        # results' ("各数据集上的效果") or a loading step ("Загрузка датасета")
        r"|^(使用的|使用)?(指令|sft ?)?(数据集|數據集)$|^(使用)?データセット$|^데이터셋$|^(datensatze?|jeux? de donnees"
        r"|conjuntos? de datos|conjuntos? de dados|set di dati|набор(ы)? данных|датасет\w*)( used)?$",
    ),
    (
        "Testing Data, Factors & Metrics",
        r"测试数据|測試數據|测试集|測試集|评测数据|評測數據|评估数据|評估數據|テストデータ|評価データ|테스트 ?데이터"
        r"|평가 ?데이터|\b(testdaten|evaluierungsdaten|donnees de test|donnees d'evaluation|datos de (prueba"
        r"|evaluacion)|dados de (teste|avaliacao)|dati di test|тестовые данные|данные для оценки)\b",
    ),
    (
        "Training Procedure",
        r"训练过程|訓練過程|训练方法|訓練方法|训练设置|訓練設置|训练配置|训练策略|超参数|超參數|^微调$|^微調$|^预训练$"
        r"|学習設定|学習方法|学習手順|ハイパーパラメータ|^ファインチューニング|학습 (방법|과정|설정)|훈련 과정"
        r"|하이퍼 ?파라미터|^파인 ?튜닝|\b(trainingsverfahren|trainingsprozess|feinabstimmung|procedure d'entrainement"
        r"|procedimiento de entrenamiento|procedimento de treinamento|procedura di addestramento"
        r"|процесс обучения|процедура обучения|гиперпараметры)\b",
    ),
    (
        "Environmental Impact",
        r"环境影响|環境影響|環境への影響|碳排放|炭素排出|二酸化炭素|能耗|환경 영향|탄소 배출|\b(umweltauswirkungen"
        r"|umwelt\w*|energieverbrauch|impact environnemental|empreinte carbone|impacto ambiental|huella de carbono"
        r"|pegada de carbono|impatto ambientale|углеродный след|энергопотреблени\w*|окружающ\w* сред\w*)\b",
    ),
    (
        "Results",
        r"(评测|評測|评估|評估|实验|實驗|测试|測試|評価|実験|평가|실험) ?(结果|結果|결과)|^(结果|結果|결과)$|下游效果|模型效果"
        r"|效果(评估|評估|测试|測試|对比|對比)|模型表现|模型表現|性能|の精度|성능|榜单|\b(ergebnisse|leistung|resultats"
        r"|resultados|rendimiento|desempenho|risultati|prestazioni|результаты|производительность)\b",
    ),
    (
        "Evaluation",
        r"评测|評測|评估|評估|测评|測評|评价|評價|評価|基准|基準|ベンチマーク|평가|벤치마크|下游效果|模型效果|模型表现|模型表現"
        r"|性能|の精度|성능"
        r"|\b(evaluierung|auswertung|bewertung|evaluacion|avaliacao|valutazione|оценк\w*|метрики)\b",
    ),
    (
        "Bias, Risks, and Limitations",
        # "限制"/"제한" (limit, restriction) only as the whole heading: in a longer one it is as often
        # a length or memory limit ("上下文长度限制") as the model's limitations
        r"局限|^(使用|模型)?限制$|偏见|偏見|风险|風險|免责|免責|伦理|倫理|限界|バイアス|リスク|注意事項|한계"
        r"|^(사용 ?)?제한( ?사항)?$|편향|위험|면책|윤리"
        r"|\b(einschrankungen|grenzen|risiken|verzerrungen|haftungsausschluss|ethik|limites|biais|risques"
        r"|avertissement|ethique|limitaciones|sesgos?|riesgos|etica|limitacoes|vieses|riscos|limitazioni|limiti"
        r"|rischi|ограничения|риски|предвзятость|этика|отказ от ответственности)\b",
    ),
    (
        "Uses",
        r"用途|应用场景|應用場景|使用场景|使用場景|适用范围|適用範圍|利用目的|용도|사용 목적|\b(verwendungszweck"
        r"|anwendungsbereich|anwendungsfalle|utilisations? prevues?|cas d'usage|usos? previstos?|casos de uso"
        r"|usos? pretendidos?|usi previsti|casi d'uso|назначение|область применения|предполагаемое использование)\b",
    ),
    (
        "How to Get Started",
        r"快速开始|快速開始|快速上手|快速使用|使用方法|使用方式|使用说明|使用說明|使用示例|使用範例|使用例|如何使用|模型使用"
        r"|^使用$|^用法|^推理$|模型推理|推理代码|推理代碼|推理示例|调用|調用|安装|安裝|加载模型|加載模型|示例代码|代码示例"
        r"|範例程式|使い方|利用方法"
        r"|クイックスタート|^推論$|推論(方法|コード|の方法)|インストール|実行方法|サンプルコード|사용 ?방법|사용법|시작하기|빠른 시작|설치"
        r"|사용 예시|^사용$|^추론$|추론 (방법|예시|코드)|\b(schnellstart|erste schritte|inferenz|codebeispiel|demarrage rapide|premiers pas"
        r"|comment utiliser|inicio rapido|primeros pasos|como usar|como utilizar|primeiros passos|avvio rapido"
        r"|guida rapida|come usare|come utilizzare|быстрый старт|начало работы|как использовать"
        r"|примеры? использования|установка)\b|^(verwendung|nutzung|utilisation|uso|utilizzo|использование)$",
    ),
    (
        "Model Architecture",
        r"模型结构|模型結構|模型架构|模型架構|网络结构|網絡結構|^架构$|アーキテクチャ|モデル構造|아키텍처|모델 구조"
        r"|\b(architektur|modellarchitektur|arquitectura|arquitetura|architettura|архитектура)\b",
    ),
    (
        "Compute Infrastructure",
        r"硬件|硬體|软件依赖|軟體依賴|依赖|依賴|算力|计算资源|計算資源|ハードウェア|ソフトウェア|動作環境|하드웨어|소프트웨어"
        r"|\b(rechenressourcen|infraestructura|infraestrutura|infrastruttura|инфраструктура|оборудование)\b",
    ),
    (
        "Technical Specifications",
        r"技术规格|技術規格|技術仕様|기술 사양|\b(technische spezifikationen|specifications techniques"
        r"|especificaciones tecnicas|especificacoes tecnicas|specifiche tecniche|технические характеристики)\b",
    ),
    (
        "Citation",
        r"引用|引文|参考文献|參考文獻|^参考$|^參考$|^文献$|^论文$|^論文$|인용|참고 ?문헌|^논문$|\b(zitat|zitierung|zitieren"
        r"|literatur|referenzen|citer|bibliographie|citacion|como citar|referencias|bibliografia|citacao"
        r"|citazione|come citare|riferimenti|цитирование|как цитировать|литература|библиография)\b",
    ),
    ("Glossary", r"术语|術語|用語集|용어|\b(glossar|glossaire|glosario|glossario|глоссарий)\b"),
    (
        "More Information",
        r"更多信息|更多資訊|其他信息|其他資訊|詳細情報|추가 정보|\b(weitere informationen|plus d'informations"
        r"|informations supplementaires|mas informacion|informacion adicional|mais informacoes"
        r"|ulteriori informazioni|дополнительная информация)\b",
    ),
    (
        "License",
        # "协议" alone is also a protocol ("HTTP协议调用"): an agreement when it says which
        r"许可|許可|授权|授權|(开源|開源|使用|用户|用戶|模型|社区|社區|商用)(协议|協議)|^(协议|協議)$|版权|版權|"
        r"使用条款|使用條款|ライセンス|利用規約|使用許諾|라이선스|라이센스|이용 ?약관"
        r"|\b(lizenz\w*|nutzungsbedingungen|conditions d'utilisation|licencia|terminos de uso|licenca"
        r"|termos de uso|licenza|termini d'uso|лицензи\w*|условия использования)\b",
    ),
    (
        "Changelog",
        r"更新日志|更新日誌|更新记录|更新記錄|版本历史|版本歷史|最近更新|更新履歴|変更履歴|更新情報|お知らせ|^ニュース$"
        r"|^新闻$|^新聞$|^动态$|업데이트|변경 ?(사항|내역)|새 소식|^뉴스$|\b(anderungen|neuigkeiten|versionshistorie"
        r"|anderungsprotokoll|nouveautes|historique des versions|mises a jour|journal des modifications"
        r"|novedades|historial de versiones|actualizaciones|registro de cambios|novidades|atualizacoes"
        r"|historico de versoes|novita|aggiornamenti|cronologia|изменения|обновления|новости|история версий)\b",
    ),
    (
        "Prompt Format",
        r"提示(词|詞)?(格式|模板)|对话模板|對話模板|对话格式|對話格式|プロンプト(の)?(形式|フォーマット|テンプレート)"
        r"|프롬프트 ?(형식|템플릿)|\b(formato (del |de )?prompt|format (du |de )?prompt|формат промпта)\b",
    ),
    (
        "Quantization",
        r"量化|量子化|양자화|\b(quantisierung|quantification|cuantizacion|quantizacao|quantizzazione"
        r"|квантизаци\w*|квантовани\w*)\b",
    ),
    (
        "Model Description",
        r"模型描述|模型说明|模型說明|モデル(の)?説明|모델 설명|\b(modellbeschreibung|beschreibung|description du modele"
        r"|descripcion( del modelo)?|descricao( do modelo)?|descrizione( del modello)?|описание( модели)?)\b",
    ),
    (
        "Model Details",
        r"模型信息|模型資訊|模型详情|模型詳情|模型细节|模型細節|模型介绍|模型介紹|模型概述|项目简介|項目簡介|^简介$|^簡介$"
        r"|^介绍$|^介紹$|^概述$|^概览$|モデル(の)?詳細|モデル(の)?概要|^概要$|^はじめに$|このモデルについて|^紹介$"
        r"|모델 ?(정보|소개|개요|세부)|^소개$|^개요$|^presentation( du modele)?$|\b(modelldetails|modellinformationen|uberblick|einleitung"
        r"|einfuhrung|uber das modell|details du modele|apercu|detalles del modelo"
        r"|informacion del modelo|introduccion|descripcion general|detalhes do modelo|introducao|visao geral"
        r"|dettagli del modello|introduzione|panoramica|сведения о модели|информация о модели|введение|обзор"
        r"|о модели)\b",
    ),
    (
        "Model Sources",
        r"代码仓库|代碼倉庫|代码地址|項目地址|项目地址|开源地址|開源地址|相关链接|相關連結|関連リンク|관련 링크"
        r"|\b(quellen|ressources|recursos|fuentes|risorse|ссылки|ресурсы)\b",
    ),
)
_FOREIGN_RES = tuple((name, re.compile(pat)) for name, pat in FOREIGN_SECTION_PATTERNS)
#: What a foreign heading naming the first section does not also name: a heading on what the
#: model must not be used for is not its Uses section ("使用してはいけない用途"), and one on
#: test data is not its Training Data ("评测数据集"). (The English table encodes the same by
#: anchoring; "training and evaluation data", which names both, is English only.)
_FOREIGN_EXCLUDES = (("Out-of-Scope Use", "Uses"), ("Testing Data, Factors & Metrics", "Training Data"))


def _required_literals(items: list[tuple[Any, Any]]) -> list[str] | None:
    """Strings one of which every match of the parsed regex ``items`` contains; ``None`` if unknown.

    A literal run at the top level of the sequence is required on its own; a top-level
    alternation requires one of its branches' literals. Of the choices, the one whose
    shortest string is longest is kept (it lets the fewest headings through).
    """
    choices: list[list[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is _sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            choices.append(["".join(run)])
            run = []
        if op is _sre_constants.BRANCH:
            union: list[str] = []
            for branch in av[1]:
                needed = _required_literals(list(branch))
                if needed is None:
                    union = []
                    break
                union.extend(needed)
            if union:
                choices.append(union)
        elif op is _sre_constants.SUBPATTERN:
            needed = _required_literals(list(av[3]))
            if needed:
                choices.append(needed)
    return max(choices, key=lambda c: min(map(len, c))) if choices else None


@dataclass(frozen=True)
class _Prefilter:
    """One heading table's prefilter: the literals its patterns require, one Aho-Corasick
    automaton over them, and per literal the patterns requiring it.

    Most headings ("Model Card for X", "Llama 3.1 8B") name no template section; one automaton
    pass over the literals answers those without trying the table's ~30 patterns, ``re``
    attempting most of them at every position of the heading. The literals found also say
    which patterns can match: only those are tried.
    """

    pattern_keys: tuple[tuple[str, ...], ...]  # per pattern, the literals one of which it needs
    keys: tuple[str, ...]
    key_patterns: tuple[tuple[int, ...], ...]  # per literal of ``keys``, the patterns needing it
    automaton: Any

    def candidates(self, text: str) -> set[int] | None:
        """The indexes of the patterns that can match ``text``; ``None`` when none can."""
        found = self.automaton.find_matches_as_indexes(text, overlapping=True)
        return {i for key, _, _ in found for i in self.key_patterns[key]} if found else None


def _prefilter(patterns: Iterable[str]) -> _Prefilter | None:
    """The prefilter of a table of patterns; ``None`` when one pattern requires no literal we can
    read (then every heading must try every pattern of that table, or that pattern would never
    be tried). Both tables are built here so that rule cannot differ between them."""
    needed = [_required_literals(list(_sre_parser.parse(pattern))) for pattern in patterns]
    if any(not keys for keys in needed):
        return None
    pattern_keys = tuple(tuple(keys or ()) for keys in needed)
    keys = tuple(dict.fromkeys(key for each in pattern_keys for key in each))
    return _Prefilter(
        pattern_keys=pattern_keys,
        keys=keys,
        key_patterns=tuple(tuple(i for i, each in enumerate(pattern_keys) if key in each) for key in keys),
        automaton=ahocorasick_rs.AhoCorasick(keys),
    )


_ENGLISH_PREFILTER = _prefilter(pattern for _, pattern in SECTION_PATTERNS)
_FOREIGN_PREFILTER = _prefilter(pattern for _, pattern in FOREIGN_SECTION_PATTERNS)
CANONICAL_SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in SECTION_PATTERNS))

_PLACEHOLDER = re.compile(
    r"\[?\s*more information needed\s*\]?|\[?\s*needs? more information\s*\]?|\{\{.*?\}\}|\[optional\]"
    r"|<!--.*?-->|\b(tbd|todo|coming soon|to be (added|updated|announced))\b",
    re.IGNORECASE | re.DOTALL,
)
_LABEL_ONLY_LINE = re.compile(
    r"^[\s>*\-+|]*(?:(?:\*\*|__)[^*_\n]{1,60}(?:\*\*|__)|[^:\n]{1,60}:)\s*:?[\s|]*$"
)
#: Instruction sentences of the Hub's card templates: they describe what to write, not the model,
#: so they are neither substance nor evidence (the CO2 sentence even carries an arXiv link).
_BOILERPLATE = re.compile(
    r"carbon emissions can be estimated using the .{0,200}?lacoste et al\. \(2019\)\]?\(?[^)\s]*\)?\.?"
    r"|use the code below to get started with the model\.?"
    r"|users \(both direct and downstream\) should be made aware of the risks, biases and limitations of the"
    r" model\.(?: more information needed for further recommendations\.)?"
    r"|this is the model card of a .{0,20}transformers model that has been pushed on the hub\."
    r"(?: this model card has been automatically generated\.)?",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
#: :data:`_HEADING`'s opening; its text is then the rest of the line less a trailing run of
#: blanks, ``#`` and blanks (what the lazy group leaves), found with ``rstrip`` instead of a
#: regex that tries the closing sequence after every character of the heading.
_HEADING_OPEN = re.compile(r"(#{1,6})\s+")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])[^>]*>(.*?)</h\1>", re.IGNORECASE)
_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)([^*_\n]{2,60}?)(?::\s*)?(?:\*\*|__):?\s*(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_LINK_TEXT = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HEADING_NOISE = re.compile(r"[^a-z0-9&'<>/ ._-]+")
_NUMBERING = re.compile(r"^(\d+(\.\d+)*\.?|[ivx]+\.|[a-h]\))\s+")
_TAG = re.compile(r"<[^>]+>")
#: Dataset links in these sections are benchmarks, not training data.
EVALUATION_SECTIONS = frozenset({"Evaluation", "Results", "Testing Data, Factors & Metrics"})
_MIN_SUBSTANCE = 15  # alphanumeric characters a section needs to count as written


def _latin_fold_table() -> dict[int, str]:
    """Latin letters with diacritics (U+00C0-U+024F) mapped to their ASCII letters ("é" → "e", "ß" → "ss").

    Only Latin letters: decomposing kana or Hangul the same way would drop their voicing
    marks or split syllables ("データ" would read "テータ").
    """
    table = {ord("ß"): "ss"}
    for cp in range(0xC0, 0x250):
        bare = "".join(c for c in unicodedata.normalize("NFKD", chr(cp)) if not unicodedata.combining(c))
        if bare != chr(cp) and bare.isascii() and bare.isalpha():
            table[cp] = bare
    return table


_LATIN_FOLD = _latin_fold_table()
#: What :func:`fold_heading` keeps: letters and digits of every script, and the few marks
#: the patterns spell ("d'entrainement", "&").
_FOLD_NOISE = re.compile(r"[^\w&' ]+|_")
_ASCII_WORDS = re.compile(r"[ -~]+")


def normalise_heading(text: str) -> str:
    """Lower-case a heading and strip Markdown, emoji, numbering and "[optional]".

    The link and tag substitutions run only when their literal (``](``, ``<``) occurs:
    most headings hold neither, and each substitution costs more than the test. Accented
    Latin letters lose their accents first ("Résultats de l'évaluation" reads "resultats de
    l'evaluation", not "r sultats de l' valuation"); every other non-ASCII character is
    dropped, so a bilingual heading ("引用 Citation") keeps its English words.
    """
    if "](" in text:
        text = _MD_LINK_TEXT.sub(r"\1", text)
    if "<" in text:
        text = _TAG.sub(" ", text.replace("<sub>2</sub>", "2"))
    text = text.lower().replace("[optional]", "")
    if not text.isascii():
        text = text.translate(_LATIN_FOLD)
    text = _HEADING_NOISE.sub(" ", text)
    text = " ".join(text.replace("_", " ").split()).strip(" .:-")
    numbering = _NUMBERING.match(text)  # anchored: the one place ``_NUMBERING.sub`` can replace
    return (text[numbering.end() :] if numbering else text).strip()


def fold_heading(text: str) -> str:
    """A heading as :data:`FOREIGN_SECTION_PATTERNS` read it: Markdown links and tags, emoji,
    punctuation and numbering gone, NFKC (full-width forms and "（）" as ASCII), lower case,
    accents of Latin letters dropped, and every script's letters kept."""
    if "](" in text:
        text = _MD_LINK_TEXT.sub(r"\1", text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).lower().translate(_LATIN_FOLD)
    else:
        text = text.lower()
    text = " ".join(_FOLD_NOISE.sub(" ", text).split())
    numbering = _NUMBERING.match(text)
    return (text[numbering.end() :] if numbering else text).strip()


def _english_names(norm: str, tried: Iterable[int]) -> tuple[str, ...]:
    """The sections of the English patterns ``tried`` (indexes) that match ``norm``, in table order."""
    return tuple(name for name, rx in (_SECTION_RES[i] for i in sorted(tried)) if rx.search(norm))


def _foreign_names(folded: str, tried: Iterable[int]) -> tuple[str, ...]:
    """The sections of the foreign patterns ``tried`` (indexes) that match ``folded``, exclusions applied."""
    texts = [folded]
    if not folded.isascii():
        # a bilingual heading ("简介 Brief Introduction") is also read without its ASCII words,
        # so that an anchored one-word term ("^简介$") sees the heading's own-language half
        rest = " ".join(_ASCII_WORDS.sub(" ", folded).split())
        if rest and rest != folded:
            texts.append(rest)
    names = [
        name
        for name, rx in (_FOREIGN_RES[i] for i in sorted(tried))
        if any(rx.search(text) for text in texts)
    ]
    for first, dropped in _FOREIGN_EXCLUDES:
        if first in names and dropped in names:
            names.remove(dropped)
    return tuple(names)


def _english_sections(norm: str) -> tuple[str, ...]:
    """The sections :data:`SECTION_PATTERNS` give a heading normalised by :func:`normalise_heading`."""
    if not norm or len(norm) > 80:
        return ()
    if _ENGLISH_PREFILTER is None:
        return _english_names(norm, range(len(_SECTION_RES)))
    tried = _ENGLISH_PREFILTER.candidates(norm)
    # only patterns one of whose required literals occurs can match; tried in table order
    return _english_names(norm, tried) if tried else ()


def _foreign_sections(folded: str) -> tuple[str, ...]:
    """The sections :data:`FOREIGN_SECTION_PATTERNS` give a heading folded by :func:`fold_heading`."""
    if not folded or len(folded) > 80:
        return ()
    if _FOREIGN_PREFILTER is None:
        return _foreign_names(folded, range(len(_FOREIGN_RES)))
    tried = _FOREIGN_PREFILTER.candidates(folded)
    return _foreign_names(folded, tried) if tried else ()


def _merge(english: tuple[str, ...], foreign: tuple[str, ...]) -> tuple[str, ...]:
    """Both tables' sections, each once, in :data:`CANONICAL_SECTIONS` order."""
    if not foreign:
        return english
    if not english:
        return foreign
    both = set(english) | set(foreign)
    return tuple(name for name in CANONICAL_SECTIONS if name in both)


def _both(english: _Prefilter | None, foreign: _Prefilter | None) -> tuple[Any, tuple] | None:
    """Both tables' literals in one automaton, for ASCII headings, whose normalised form both
    tables read: one pass instead of two for the common heading that names no section. Per
    literal, the English and the foreign patterns requiring it. ``None`` unless both tables
    have a prefilter."""
    if english is None or foreign is None:
        return None
    keys = tuple(dict.fromkeys((*english.keys, *foreign.keys)))
    by_english = dict(zip(english.keys, english.key_patterns, strict=True))
    by_foreign = dict(zip(foreign.keys, foreign.key_patterns, strict=True))
    return ahocorasick_rs.AhoCorasick(keys), tuple(
        (by_english.get(k, ()), by_foreign.get(k, ())) for k in keys
    )


_BOTH = _both(_ENGLISH_PREFILTER, _FOREIGN_PREFILTER)


@functools.lru_cache(maxsize=8192)
def canonical_sections(heading: str) -> tuple[str, ...]:
    """Every template section a (raw) heading stands for, in any of the languages the two
    tables know; ``()`` when none. Ordered as :data:`CANONICAL_SECTIONS`.

    An ASCII heading's folded form differs from its normalised one only in punctuation the
    foreign patterns never spell (``<>/._-``), so the normalised form serves both tables
    there, through one automaton holding both tables' literals; the fold (NFKC, another
    pass over the heading) runs on non-ASCII headings only.
    """
    norm = normalise_heading(heading)
    if not heading.isascii() or _BOTH is None:
        return _merge(_english_sections(norm), _foreign_sections(fold_heading(heading)))
    if not norm or len(norm) > 80:
        return ()
    automaton, key_patterns = _BOTH
    found = automaton.find_matches_as_indexes(norm, overlapping=True)
    if not found:
        return ()
    english: set[int] = set()
    foreign: set[int] = set()
    for key, _, _ in found:
        eng, fgn = key_patterns[key]
        english.update(eng)
        foreign.update(fgn)
    return _merge(
        _english_names(norm, english) if english else (), _foreign_names(norm, foreign) if foreign else ()
    )


_PLACEHOLDER_KEYS = ("more information", "need more information", "needs more information", "{{", "[optional]",
                     "tbd", "todo", "coming soon", "to be added", "to be updated", "to be announced")  # fmt: skip
#: For an ASCII line, where ``re.IGNORECASE`` folds exactly as ``str.lower``: a placeholder
#: match needs one of these in the lower-cased line. Narrower than ``_PLACEHOLDER_KEYS``
#: ("for more information, see ..." is common prose), so the slow substitution, whose
#: alternatives ``re`` must try at every position, runs only where it can change the line.
_PLACEHOLDER_KEYS_ASCII = ("more information needed", "need more information", "needs more information", "{{",
                           "[optional]", "<!--", "tbd", "todo", "coming soon", "to be added", "to be updated",
                           "to be announced")  # fmt: skip
_BOILERPLATE_KEYS = ("lacoste et al", "use the code below", "users (both direct", "pushed on the hub")
_NON_ALNUM = re.compile(r"[\W_]+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
#: Does a lower-cased line contain one of the keys? One regex instead of a loop of ``in`` tests.
_HAS_BOILERPLATE_KEY = re.compile("|".join(map(re.escape, _BOILERPLATE_KEYS)))
_HAS_PLACEHOLDER_KEY = re.compile("|".join(map(re.escape, _PLACEHOLDER_KEYS)))
_HAS_PLACEHOLDER_KEY_ASCII = re.compile("|".join(map(re.escape, _PLACEHOLDER_KEYS_ASCII)))
#: Either kind of key in an ASCII line: one search clears the common line of both. An
#: Aho-Corasick DFA rather than a regex alternation: the keys start with common letters
#: (t, m, n, u, c), so ``re`` tried the alternation at most positions of a long paragraph.
_ANY_KEY_ASCII_AC = ahocorasick_rs.AhoCorasick(
    _BOILERPLATE_KEYS + _PLACEHOLDER_KEYS_ASCII, implementation=ahocorasick_rs.Implementation.DFA
)
#: Every byte but ASCII letters and digits: deleted, they leave what :data:`_NON_ALNUM` keeps.
_NOT_ALNUM_BYTES = bytes(b for b in range(256) if not (b < 128 and chr(b).isalnum()))


#: The only non-ASCII characters that ``re.IGNORECASE`` matches with an ASCII letter or whose
#: ``str.lower`` holds one (İ, dotless ı, long ſ, the Kelvin sign). A line without them, ASCII
#: or not (a curly quote, an emoji), holds a placeholder or boilerplate match only where its
#: lower case holds one of the narrow keys: those keys are runs of ASCII characters, which
#: the patterns then match with ASCII characters only. Such a line, common in long cards,
#: takes the narrow gate instead of the two wide key regexes, which ``re`` tries at almost
#: every position of a long paragraph.
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")


def _has_any_key_ascii(low: str) -> bool:
    """Does the lower-cased line hold a boilerplate key or a narrow placeholder key?"""
    return bool(_ANY_KEY_ASCII_AC.find_matches_as_indexes(low))


def _alnum_count(text: str) -> int:
    r"""``len(_NON_ALNUM.sub("", text))``: letters and digits in ``text``.

    For ASCII text (most lines) a byte deletion counts them several times faster than the
    regex substitution; ``\w`` less ``_`` is exactly ``[A-Za-z0-9]`` there.
    """
    if text.isascii():
        return len(text.encode("ascii").translate(None, _NOT_ALNUM_BYTES))
    return len(_NON_ALNUM.sub("", text))


#: Characters of a long line counted first when only ``enough`` matters (see :func:`substance`).
_PREFIX = 64
#: What every match of :data:`_PLACEHOLDER` and :data:`_BOILERPLATE` starts with, in a line
#: where the narrow keys are exact (lower-cased): the literal opening the pattern, or for
#: ``\[?\s*more information needed`` and ``\[?\s*needs? more information`` the first words,
#: before which such a match holds only a bracket and blanks. If no boilerplate match starts
#: before ``_PREFIX + K`` (K: the longest key), the placeholder pass sees the line unchanged
#: there, so a placeholder match taking a letter or digit from the first :data:`_PREFIX`
#: characters has its key within ``_PREFIX + K`` of the original; and a boilerplate match
#: starting before ``_PREFIX + K`` has its key within ``_PREFIX + 2K``. So when no key lies
#: in the first :data:`_WINDOW` characters, cleaning keeps every letter and digit of the
#: prefix, whose count is then a lower bound of the cleaned line's: a long written line is
#: judged from its prefix without lower-casing it and looking for keys along all of it.
_MATCH_START_KEYS = ("carbon emissions can be", "use the code below", "users (both direct", "this is the model card",
                     "more information needed", "need more information", "needs more information", "{{",
                     "[optional]", "<!--", "tbd", "todo", "coming soon", "to be added", "to be updated",
                     "to be announced")  # fmt: skip
_MATCH_START_AC = ahocorasick_rs.AhoCorasick(_MATCH_START_KEYS)
_WINDOW = _PREFIX + 2 * max(map(len, _MATCH_START_KEYS))


def _is_label_only(stripped: str) -> bool:
    """``_LABEL_ONLY_LINE.match(stripped)`` for a non-empty line without outer blanks.

    A label ends in ``:``, ``**`` or ``__`` followed only by blanks, ``:`` and ``|``; the
    line has no trailing blank (``str.strip`` and ``\\s`` agree on blanks), so a last
    character outside ``:*_|`` rules the regex out: prose lines skip it, and it cost
    about a microsecond even when failing.
    """
    return stripped[-1] in ":*_|" and _LABEL_ONLY_LINE.match(stripped) is not None


def iter_lines(text: str, chunk: int = 256) -> Iterable[str]:
    """``text.split("\\n")``, split lazily: callers often stop after a line or two.

    The text is split a chunk at a time, cut at the chunk's last newline, the chunks
    growing fourfold, so a caller that stops early touches only the start of a long text.
    (Splitting the whole rest with a line limit instead copied that rest at every batch,
    a cost in the size of the text that showed on long, non-Latin-1 sections.)
    """
    pos = 0
    size = len(text)
    while True:
        end = pos + chunk
        if end >= size:
            yield from text[pos:].split("\n")
            return
        cut = text.rfind("\n", pos, end)
        chunk *= 4
        if cut != -1:  # else a line longer than the chunk: look again with a larger one
            yield from text[pos:cut].split("\n")
            pos = cut + 1


def substance(text: str, enough: int | None = None) -> int:
    """Alphanumeric characters left once placeholders, comments, headings and bare labels go.

    Line by line, so a caller that only needs to know whether ``enough`` is reached stops
    after the first written sentence instead of cleaning a 20 KB section; such a caller gets
    some count of at least ``enough`` (not necessarily the whole count), or the whole count
    when ``enough`` is not reached.
    """
    count = 0
    in_comment = False
    # lines found one at a time: most calls stop at the first written line, and a generator
    # over split chunks cost more to start than the few ``find`` calls they need
    find = text.find
    size = len(text)
    pos = 0
    while pos <= size:
        end = find("\n", pos)
        if end == -1:
            end = size
        line = text[pos:end]
        pos = end + 1
        if in_comment:
            end = line.find("-->")
            if end == -1:
                continue
            line, in_comment = line[end + 3 :], False
        if "<!--" in line:
            line = _COMMENT.sub(" ", line)
            if "<!--" in line:
                line, in_comment = line[: line.index("<!--")], True
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        # the narrow keys are exact only while ``re.IGNORECASE`` matches ASCII letters with
        # ASCII letters only (see _FOLDS_TO_ASCII)
        narrow = stripped.isascii() or _FOLDS_TO_ASCII.search(stripped) is None
        if (
            narrow
            and enough is not None
            and len(stripped) > _WINDOW
            and not _MATCH_START_AC.find_matches_as_indexes(stripped[:_WINDOW].lower())
        ):
            # no match of the cleaning patterns takes a letter or digit from the prefix
            # (see _MATCH_START_KEYS): the prefix's count is at most the cleaned line's
            head = _alnum_count(stripped[:_PREFIX])
            if count + head >= enough:
                return count + head
        low = stripped.lower()
        if not narrow or _has_any_key_ascii(low):
            if _HAS_BOILERPLATE_KEY.search(low):
                stripped = _BOILERPLATE.sub(" ", stripped).strip()
                narrow = False
            if (_HAS_PLACEHOLDER_KEY_ASCII if narrow else _HAS_PLACEHOLDER_KEY).search(low):
                stripped = _PLACEHOLDER.sub(" ", stripped).strip()
        if not stripped or (len(stripped) < 70 and _is_label_only(stripped)):
            continue
        if enough is not None and len(stripped) > _PREFIX:
            # a prefix's count is at most the line's: when it suffices, the rest is not cleaned
            head = _alnum_count(stripped[:_PREFIX])
            if count + head >= enough:
                return count + head
        count += _alnum_count(stripped)
        if enough is not None and count >= enough:
            return count
    return count
    return count


@dataclass(frozen=True)
class Section:
    """One template section as written in the card (several headings may merge into one)."""

    name: str
    headings: tuple[str, ...]
    line: int  # 1-based README line of the first heading
    text: str  # content, subsections included
    substantive: bool
    spans: tuple[tuple[int, int], ...] = ()  # README line ranges (first, last) of each part

    @functools.cached_property
    def lower(self) -> str:
        return self.text.lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "headings": list(self.headings),
            "line": self.line,
            "chars": len(self.text),
            "substantive": self.substantive,
        }


#: An open section of :func:`parse_sections`, a list rather than an object (a card opens
#: one per heading, and a dataclass instance cost more than the rest of the heading's
#: work): ``[names, heading, level, line, start, end, end_off]`` with ``line`` the README
#: line of the heading (1-based), ``start`` the body offset where the content starts (a
#: bold label's: after the label), ``end`` the index (0-based body line) of the line that
#: closed the section (or the line count) and ``end_off`` that line's body offset (the
#: body's length + 1 past the end).
_NAMES, _HEAD, _LEVEL, _LINE, _START, _END, _END_OFF = range(7)
#: Position of each canonical name in :data:`CANONICAL_SECTIONS`: sections are returned in that order.
_CANONICAL_ORDER = {name: i for i, name in enumerate(CANONICAL_SECTIONS)}


_SETEXT_1 = re.compile(r"^=+\s*$")
_SETEXT_2 = re.compile(r"^-{3,}\s*$")


def _setext_level(line: str, nxt: str | None) -> int | None:
    """The level a setext underline ``nxt`` gives ``line`` (1 for ``=``, 2 for ``---``), or ``None``.

    The underline patterns are compiled once: ``re.match`` with a pattern string looks
    its compiled form up in ``re``'s cache on every call, and in cards whose paragraphs
    end above a ``---`` rule that lookup was most of the test.
    """
    if nxt is None or not line.strip() or line.lstrip()[:1] in "|-*#>+<`":
        return None
    if _SETEXT_1.match(nxt):
        return 1
    if _SETEXT_2.match(nxt):
        return 2
    return None


#: The newline before a line that may open a section or a code fence: a fence, ``**`` or
#: ``__`` after optional blanks; ``#``; ``<h1``-``<h6`` first or after a space and at most
#: nine more blanks (what the HTML-heading test accepts); or, zero-width, the newline before
#: a setext underline (``=`` run, or three or more ``-``, then blanks only), which makes the
#: line before it a candidate. Exactly the lines on which one of :func:`parse_sections`'s
#: tests can succeed, so list items, tables and prose lines never reach the Python loop.
#: ``[^\S\n]`` is ``\s`` within a line. The leading newline gives ``re`` a literal to skip
#: ahead to (a ``^`` under MULTILINE would be tried at every position of the card). The
#: lookahead after it is implied by the alternatives (each starts with a blank or one of
#: those characters): it turns the common prose, list and blank line away with one class
#: test before the four alternatives are tried; the HTML opening is spelled without an
#: optional group, which ``re`` runs as a general repeat.
_CANDIDATE = re.compile(
    r"\n(?=[^\S\n]|[#<=`~*_-])"
    r"(?:[^\S\n]*(?:```|~~~|\*\*|__)|#|(?:<| [^\S\n]{0,9}<)[hH][1-6]|(?=(?:=+|-{3,})[^\S\n]*(?:\n|\Z)))"
)


#: :data:`_CANDIDATE` for the body's first line, which has no newline before it: the same
#: alternatives but the setext one (an underline on the first line names no line).
_CANDIDATE_FIRST = re.compile(r"[^\S\n]*(?:```|~~~|\*\*|__)|#|(?:<| [^\S\n]{0,9}<)[hH][1-6]")
_ONE = 1
_START = operator.methodcaller("start")


def _candidates(body: str) -> list[tuple[int, int]]:
    """``(line index, line start offset)`` of every candidate line of ``body``, ascending.

    :func:`parse_sections` reads the same lines straight from the scan (offsets only, lines
    counted where a section opens); this listing is the plain form its tests compare with.

    Every other line is plain content the outline loop would step over; selecting the few
    candidates with one C-level scan spares a Python iteration per line of a long card.
    """
    text = "\n" + body
    out: list[tuple[int, int]] = []
    count = text.count
    line = -1
    pos = 0
    last = -1
    for m in _CANDIDATE.finditer(text):
        start = m.start()  # the newline before the line, i.e. the line's offset in ``body``
        line += count("\n", pos, start + 1)
        pos = start + 1
        if text[pos] in "=-":  # a setext underline: the line before it is the candidate
            idx = line - 1
            if idx < 0 or idx == last:
                continue
            out.append((idx, body.rfind("\n", 0, start - 1) + 1))
        else:
            if line == last:
                continue
            idx = line
            out.append((idx, start))
        last = idx
    return out


def _by_line(sec: list[Any]) -> int:
    """Sort key of an open section: its heading's README line."""
    return sec[_LINE]


def _close(open_sections: list[list[Any]], closed: list[list[Any]], level: int, idx: int, ls: int) -> None:
    """Close the open sections of ``level`` or deeper at the line ``idx`` (body offset ``ls``).

    Only those naming a template section are kept in ``closed``: an unknown heading's
    section bounds the others but is never merged into the outline.
    """
    while open_sections and open_sections[-1][_LEVEL] >= level:
        sec = open_sections.pop()
        if sec[_NAMES]:
            sec[_END], sec[_END_OFF] = idx, ls
            closed.append(sec)


def _content(body: str, low: str | None, parts: list[tuple[int, int]]) -> tuple[str, str | None, bool]:
    """A section's text (its ``parts`` of ``body`` joined), its lower case cut from ``low``
    (``None`` without ``low``), and whether it is substantive."""
    if len(parts) == 1:
        ((a, b),) = parts
        text = body[a:b]
        lower = None if low is None else low[a:b]
    else:
        text = "\n".join([body[a:b] for a, b in parts])
        lower = None if low is None else "\n".join([low[a:b] for a, b in parts])
    return text, lower, substance(text, _MIN_SUBSTANCE) >= _MIN_SUBSTANCE


def parse_sections(
    body: str, line_offset: int = 0, low: str | None = None
) -> tuple[dict[str, Section], tuple[str, ...]]:
    """Map the body onto template sections; returns ``(sections, raw headings)``.

    A heading's section runs until the next heading of the same or a higher level, so a
    parent ("Training Details") includes its subsections. Bold labels at the start of a
    line ("**Training Data** ...") open a section only when the label is a known synonym,
    and it runs to the next heading or label. Fenced code is skipped (``# comment`` lines
    in shell snippets are not headings). Only candidate lines (:data:`_CANDIDATE`) are
    visited, and sections are kept as offsets into the body and sliced once at the end,
    so the card is never split into lines.

    ``low`` is ``body.lower()`` when the caller has it: each section's :attr:`Section.lower`
    is then cut from it instead of lower-casing the section again (when that is exact:
    ``lower()`` kept every character's length and no capital sigma, whose lower case
    depends on the letters around it, occurs).
    """
    size = len(body)
    find = body.find
    count = body.count
    open_sections: list[list[Any]] = []  # see :data:`_NAMES`
    closed: list[list[Any]] = []  # closed sections that name a template section
    headings: list[str] = []
    in_fence = False
    fence_marker = ""
    skip = -1  # offset of a setext underline already read with its heading
    last = -1  # offset of the last candidate line (a setext underline names the line before it)
    # 0-based index of the line at offset ``at``, counted up only when a section opens or closes
    idx = at = 0
    # the offsets of the candidate lines: the first line's (no newline before it to match, and
    # no line before it for a setext underline to name), then one past each match's newline
    starts = map(_ONE.__add__, map(_START, _CANDIDATE.finditer(body)))
    for ls in chain((0,), starts) if _CANDIDATE_FIRST.match(body) else starts:
        if body[ls] in "=-":  # a setext underline: the line before it is the candidate
            ls = body.rfind("\n", 0, ls - 1) + 1
            if ls == last:
                continue
        last = ls
        if ls == skip:
            continue
        le = find("\n", ls)
        if le == -1:
            le = size
        line = body[ls:le]
        first = line[:1]
        # (a fence opens with a blank, "`" or "~": the one-character test spares two scans of
        # a long label line)
        fence = _FENCE.match(line) if (first in "`~" or first.isspace()) else None
        if fence:
            if not in_fence:
                in_fence, fence_marker = True, fence.group(1)
            elif fence.group(1) == fence_marker:
                in_fence = False
            continue
        if in_fence:
            continue
        level = 0  # the heading's level, 0: the line is no heading
        content_start = le + 1  # offset of the next line (``size + 1`` past the end)
        if first == "#":
            h = _HEADING_OPEN.match(line)
            if h:
                level, heading_text = len(h.group(1)), line[h.end() :].rstrip().rstrip("#").rstrip()
        elif first == "<" or (first == " " and "<h" in line[:12].lower()):
            h = _HTML_HEADING.match(line)
            if h:
                level, heading_text = int(h.group(1)), h.group(2)
        if not level and body[le + 1 : le + 2] in ("=", "-") and le < size:
            ne = find("\n", le + 1)
            if ne == -1:
                ne = size
            setext = _setext_level(line, body[le + 1 : ne])
            if setext is not None:
                level, heading_text = setext, line.strip()
                skip = le + 1
                content_start = ne + 1
        if level:
            headings.append(heading_text)
            idx += count("\n", at, ls)
            at = ls
            # close the open sections of this level or deeper (see :func:`_close`)
            while open_sections and open_sections[-1][_LEVEL] >= level:
                sec = open_sections.pop()
                if sec[_NAMES]:
                    sec[_END], sec[_END_OFF] = idx, ls
                    closed.append(sec)
            # an unknown heading (no names) still bounds the sections below it in the outline
            open_sections.append(
                [
                    canonical_sections(heading_text),
                    heading_text,
                    level,
                    idx + 1 + line_offset,
                    content_start,
                    0,
                    0,
                ]
            )
            continue
        # (a line not starting with whitespace starts with "**"/"__" only if ``first`` says so)
        if first in ("*", "_") or (first.isspace() and line.lstrip()[:2] in ("**", "__")):
            b = _BOLD_LABEL.match(line)
            # a bold sentence ("**Evaluation of X on Y.**") is a caption, not a label
            if b and len(b.group(1).split()) <= 6 and not b.group(1).rstrip().endswith("."):
                names = canonical_sections(b.group(1))
                if names:
                    idx += count("\n", at, ls)
                    at = ls
                    _close(open_sections, closed, 7, idx, ls)
                    # the section's text starts with the rest of the label's line
                    open_sections.append(
                        [names, line.strip()[:80], 7, idx + 1 + line_offset, ls + b.start(2), 0, 0]
                    )
    if open_sections:
        n = idx + 1 + count("\n", at)  # the line count
        for sec in open_sections:
            if sec[_NAMES]:
                sec[_END], sec[_END_OFF] = n, size + 1
                closed.append(sec)

    if not closed:  # no heading or label names a template section (over half of typical cards)
        return {}, tuple(headings)
    if low is not None and (len(low) != size or "\u03a3" in body):
        low = None
    merged: dict[str, tuple[list[str], int, list[tuple[int, int]], list[tuple[int, int]]]] = {}
    closed.sort(key=_by_line)
    for names, heading_text, _, sec_line, start, end, end_off in closed:
        # the content is body[start : end_off - 1] (the newline before the closing line dropped)
        part = (start, end_off - 1 if end_off > start else start)
        for name in names:
            entry = merged.get(name)
            if entry is None:
                merged[name] = ([heading_text], sec_line, [part], [(sec_line, end + line_offset)])
            else:
                entry[0].append(heading_text)
                entry[2].append(part)
                entry[3].append((sec_line, end + line_offset))
    sections: dict[str, Section] = {}
    # a heading naming several sections ("Intended uses & limitations") gives them the same
    # parts: their text, lower case and substance are cut and judged once
    contents: dict[tuple[tuple[int, int], ...], tuple[str, str | None, bool]] = {}
    for name in sorted(merged, key=_CANONICAL_ORDER.__getitem__):
        heads, first_line, parts, spans = merged[name]
        key = tuple(parts)
        content = contents.get(key)
        if content is None:
            content = contents[key] = _content(body, low, parts)
        text, lower, substantive = content
        section = frozen_record(
            Section,
            {"name": name, "headings": tuple(heads), "line": first_line, "text": text,
             "substantive": substantive, "spans": tuple(spans)},
        )  # fmt: skip
        if lower is not None:
            section.__dict__["lower"] = lower
        sections[name] = section
    return sections, tuple(headings)

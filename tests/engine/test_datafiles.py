"""The bundled YAML tables read through libyaml give exactly what PyYAML's pure parser gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from licenses.engine import datafiles

DATA = Path(datafiles.__file__).resolve().parent.parent / "data"
TABLES = sorted(DATA.rglob("*.yaml")) + sorted(DATA.rglob("*.yml"))


def test_there_are_tables_to_check():
    assert len(TABLES) >= 3


@pytest.mark.parametrize("path", TABLES, ids=lambda p: str(p.relative_to(DATA)))
def test_table_reads_the_same_as_safe_load(path: Path):
    text = path.read_text(encoding="utf-8")
    expected = yaml.safe_load(text)
    got = datafiles.read_yaml(path)
    assert got == expected
    assert repr(got) == repr(expected)  # 1 vs 1.0 vs True and key order count too


def test_errors_are_yaml_errors():
    with pytest.raises(yaml.YAMLError):
        datafiles.load_yaml_text("a: [1, 2")

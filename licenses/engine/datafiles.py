"""Reading the engine's own bundled YAML tables (``licenses/data``).

Why not ``yaml.safe_load``: it is PyYAML's pure-Python parser, and the base-model table
alone took a third of a second to parse with it, paid by every CLI run and every worker
process that analyses a card. libyaml's parser gives the same values (the test suite
checks every bundled table both ways) in a sixth of the time; the pure parser remains
the fallback where PyYAML was built without libyaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text: str) -> Any:
    """``yaml.safe_load(text)``, through libyaml when available; raises ``yaml.YAMLError`` alike."""
    return yaml.load(text, Loader=SAFE_LOADER)


def read_yaml(path: Path | str) -> Any:
    """A bundled YAML file's value (UTF-8)."""
    return load_yaml_text(Path(path).read_text(encoding="utf-8"))

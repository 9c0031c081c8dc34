"""Fixtures for the mirror tests: a local Hub-API upstream seeded with the real corpus cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.upstream.server import UpstreamServer
from tests.services import free_port


@pytest.fixture
def model_cards(corpus_dir: Path) -> Path:
    return corpus_dir / "model-cards"


@pytest.fixture
def upstream(model_cards: Path):
    """154 real cards (153 repos; later card versions kept aside), every 10th with a config and weights."""
    with UpstreamServer(free_port()) as server:
        server.state.seed_model_cards(model_cards, weights_every=10)
        yield server


@pytest.fixture
def fast_retries(settings):
    """Backoff in milliseconds, so the politeness tests wait only as long as the upstream asks."""
    settings.MIRROR_BACKOFF_BASE = 0.01
    settings.MIRROR_BACKOFF_MAX = 0.05
    settings.MIRROR_MAX_ATTEMPTS = 6
    return settings

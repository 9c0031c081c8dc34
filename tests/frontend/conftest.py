"""Fixture data shared by the catalogue's test-client tests."""

from __future__ import annotations

import pytest

from tests.frontend.catalogue_data import Catalogue, build_catalogue


@pytest.fixture
def fast_passwords(settings):
    """Fixture users sign in many times; the production hasher's deliberate slowness buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counts, facets and dashboard figures are cached; a previous test's registry must not leak in."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalogue(db, fast_passwords) -> Catalogue:
    return build_catalogue()

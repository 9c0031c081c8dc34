"""The registry resolver answers with the licence in force at the child's date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from hub.models import Commit, Ref, RevisionAnalysis
from licenses.services.resolver import DatabaseResolver
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db


def relicense(repo, key: str, cls: str, when) -> None:
    commit = Commit.objects.create(repository=repo, sha=f"{key:0<40}"[:40].replace("-", "0"), created_at=when)
    RevisionAnalysis.objects.create(
        commit=commit, status="done", result={}, license_key=key, license_class=cls, analysed_at=when
    )
    Ref.objects.filter(repository=repo, name="main").update(commit=commit)


def test_resolves_licence_as_of_the_childs_date():
    base = analysed_model("tii/base-7b", "tii-falcon-llm-1.0", "vendor-community", "conditional")
    Commit.objects.filter(repository=base).update(created_at=timezone.now() - timedelta(days=400))
    relicense(base, "apache-2.0", "osi-permissive", timezone.now() - timedelta(days=100))
    resolver = DatabaseResolver()

    early = resolver.resolve("TII/Base-7B", date.today() - timedelta(days=300))
    late = resolver.resolve("tii/base-7b", date.today())
    unknown_date = resolver.resolve("tii/base-7b", None)
    assert early.license_key == "tii-falcon-llm-1.0"
    assert late.license_key == "apache-2.0" and late.source == "registry"
    assert unknown_date.license_key == "apache-2.0"
    before_history = resolver.resolve("tii/base-7b", date.today() - timedelta(days=1000))
    assert before_history.license_key == "apache-2.0"  # nothing that old: newest is the best answer


def test_private_and_missing_models_do_not_resolve():
    analysed_model("corp/hidden", "mit", "osi-permissive", "yes", private=True)
    resolver = DatabaseResolver()
    assert resolver.resolve("corp/hidden", None) is None
    assert resolver.resolve("nobody/nothing", None) is None
    assert resolver.resolve("not-an-id", None) is None

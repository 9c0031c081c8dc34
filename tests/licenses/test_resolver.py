"""The registry resolver answers with the licence in force at the child's date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from hub.models import Commit, Ref
from licenses.services.bulk_resolver import PrefetchedResolver
from licenses.services.resolver import DatabaseResolver
from tests.licenses.factories import analysed_commit, analysed_model, relicense

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("kind", [Ref.Kind.PR, Ref.Kind.BRANCH])
def test_only_the_default_branch_is_the_parents_licence(kind):
    """A newer analysed commit on a pull request or another branch is a proposal: anyone may open a
    pull request, and judging children by it let a stranger flip their verdicts either way."""
    base = analysed_model("acme/base", "cc-by-nc-4.0", "noncommercial", "no")
    proposal = analysed_commit(base, "apache-2.0", "osi-permissive", timezone.now(), parent=base.head)
    Ref.objects.create(
        repository=base, kind=kind, name="1" if kind == Ref.Kind.PR else "relicence", commit=proposal
    )
    assert DatabaseResolver().resolve("acme/base", None).license_key == "cc-by-nc-4.0"
    assert DatabaseResolver().resolve("acme/base", date.today()).license_key == "cc-by-nc-4.0"
    assert PrefetchedResolver([("acme/base", None)]).resolve("acme/base", None).license_key == "cc-by-nc-4.0"

    relicense(base, "mit", "osi-permissive", timezone.now())  # main moves on: that is the licence now
    assert DatabaseResolver().resolve("acme/base", None).license_key == "mit"
    assert PrefetchedResolver([("acme/base", None)]).resolve("acme/base", None).license_key == "mit"

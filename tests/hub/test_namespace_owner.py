"""A user whose name is already another owner's namespace owns no repositories (hub.models.namespace_for_user).

Users come from ``manage.py token create NAME --create-user`` and the admin, neither of which knows the
hub's namespaces: a user named like an organisation (a mirrored ``01-ai``, say) was handed that
organisation's namespace and could create repositories in it, under the organisation's name, which its
own ``organization=`` request is refused.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from hub.auth import Caller
from hub.models import ApiToken, Namespace, Repository
from hub.services.errors import BadRequest
from hub.services.repos import create_repository

pytestmark = pytest.mark.django_db


def writer(name: str) -> Caller:
    return Caller(get_user_model().objects.create_user(name), ApiToken(scope="write"))


@pytest.mark.parametrize("user_name", ["acme", "ACME"])
def test_a_user_named_like_an_organisation_cannot_create_in_it(user_name):
    Namespace.objects.create(name="acme", kind=Namespace.Kind.ORG)
    with pytest.raises(BadRequest, match="organisation"):
        create_repository(writer(user_name), name="squatted")
    assert not Repository.objects.filter(name="squatted").exists()


def test_a_user_named_like_another_user_in_other_case_gets_a_clear_refusal():
    create_repository(writer("alice"), name="first")
    with pytest.raises(BadRequest, match="another user"):  # was an IntegrityError: a 500 on create_repo
        create_repository(writer("Alice"), name="second")
    assert list(Repository.objects.values_list("namespace__name", "name")) == [("alice", "first")]


def test_an_ordinary_user_still_gets_a_personal_namespace():
    create_repository(writer("bob"), name="model")
    repo = Repository.objects.get(name="model")
    assert (repo.namespace.name, repo.namespace.kind) == ("bob", Namespace.Kind.USER)

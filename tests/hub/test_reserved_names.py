"""Owners named like the site's own pages: ``/licenses/mit`` must stay the MIT licence's page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import get_resolver

from hub.auth import Caller
from hub.models import RESERVED_NAMESPACES, ApiToken, Namespace
from hub.services.errors import BadRequest
from hub.services.repos import create_repository
from workers.mirror.sync import split_repo_id

pytestmark = pytest.mark.django_db


def _first_segments(patterns, prefix: str = "") -> set[str]:
    found = set()
    for p in patterns:
        route = prefix + str(p.pattern)
        if hasattr(p, "url_patterns"):
            found |= _first_segments(p.url_patterns, route)
        else:
            found.add(route.lstrip("^").split("/")[0])
    return found


def test_every_fixed_route_is_a_reserved_owner_name():
    literal = {s for s in _first_segments(get_resolver().url_patterns) if s and "<" not in s and "(" not in s}
    assert literal and literal <= RESERVED_NAMESPACES, literal - RESERVED_NAMESPACES


@pytest.mark.parametrize("name", ["licenses", "Violations", "api"])
def test_no_namespace_takes_a_reserved_name(name):
    with pytest.raises(ValidationError, match="site's own pages"):
        Namespace.objects.create(name=name, kind=Namespace.Kind.ORG)
    user = get_user_model().objects.create_user(name)  # the account itself is fine …
    assert not Namespace.objects.filter(name__iexact=name).exists()
    with pytest.raises(BadRequest, match="site's own pages"):  # … but it owns no repositories
        create_repository(Caller(user, ApiToken(scope="write")), name="mit")


def test_the_mirror_refuses_such_owners_per_repository():
    with pytest.raises(BadRequest, match="'licenses/mit' cannot be a registry id"):
        split_repo_id("licenses/mit")
    assert split_repo_id("license/mit") == ("license", "mit")


@pytest.mark.parametrize("name", ["model\n", "bob\n"])
def test_a_trailing_newline_is_no_part_of_a_valid_name(name):
    """``^…$`` with ``match`` let "name\\n" through (``$`` matches before a final newline)."""
    from hub.auth import new_username_problem
    from hub.services.errors import BadRequest
    from hub.services.repos import validate_name

    with pytest.raises(BadRequest):
        validate_name(name)
    assert new_username_problem(name)

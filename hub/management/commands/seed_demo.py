"""``manage.py seed_demo``: load the demo repositories in ``hub/fixtures/demo`` as real commits.

Each folder ``owner__name`` becomes the model repository ``owner/name`` in an organisation
owned by the ``demo`` user; content goes through the commit service, so blobs, tags and
the per-commit licence analysis are produced exactly as for an upload. Running it again
commits only what changed (nothing, usually).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hub.auth import Caller
from hub.models import ApiToken, Namespace, OrgMembership, Repository
from hub.services.ingest import commit_folder
from hub.services.repos import create_repository

DEMO_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


class Command(BaseCommand):
    help = "Load the demo repositories (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--path", type=Path, default=DEMO_DIR, help="folder of owner__name repositories")

    def handle(self, *args, **options) -> None:
        root: Path = options["path"]
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        user, _ = get_user_model().objects.get_or_create(
            username="demo", defaults={"email": "demo@example.invalid"}
        )
        caller = Caller(user, ApiToken(scope=ApiToken.Scope.WRITE))
        made = changed = 0
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and "__" in p.name):
            owner, name = folder.name.split("__", 1)
            with transaction.atomic():
                org, _ = Namespace.objects.get_or_create(name=owner, defaults={"kind": Namespace.Kind.ORG})
                if org.user_id != user.pk:
                    OrgMembership.objects.get_or_create(org=org, user=user, defaults={"role": "admin"})
            repo = Repository.objects.filter(namespace=org, name=name, repo_type="model").first()
            if repo is None:
                repo, _ = create_repository(caller, name=name, organization=owner)
                made += 1
            if commit_folder(repo, folder, author=user, message="Load demo content") is not None:
                changed += 1
                self.stdout.write(f"committed {owner}/{name}")
        self.stdout.write(self.style.SUCCESS(f"demo: {made} repositories created, {changed} updated"))

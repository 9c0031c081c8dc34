"""``manage.py token create USERNAME [--write] [--name NAME] [--create-user]`` / ``token revoke PREFIX`` /
``token revoke --user USERNAME`` (every active token of that user: a password change leaves tokens working).

The plaintext token is printed once, on stdout alone (scripts capture it); only its
sha256 is stored.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub.auth import PREFIX_LENGTH, BadUsername, get_or_create_user, hash_token, mint_token
from hub.models import ApiToken


class Command(BaseCommand):
    help = "Create or revoke API tokens."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new token for USERNAME")
        create.add_argument("username")
        create.add_argument("--write", action="store_true", help="allow pushing (default: read-only)")
        create.add_argument("--name", default="", help="a label to tell tokens apart")
        create.add_argument("--create-user", action="store_true", help="create USERNAME if it does not exist")
        revoke = sub.add_parser(
            "revoke", help="revoke the token starting with TOKEN_PREFIX, or --user's tokens"
        )
        revoke.add_argument("token_prefix", nargs="?")
        revoke.add_argument("--user", help="revoke every active token of this user instead")

    def handle(self, *args, **options) -> None:
        if options["action"] == "create":
            try:
                user = get_or_create_user(options["username"], options["create_user"])
            except BadUsername as exc:
                raise CommandError(str(exc)) from exc
            if user is None:
                raise CommandError(f"no user {options['username']!r}; pass --create-user to create it")
            scope = ApiToken.Scope.WRITE if options["write"] else ApiToken.Scope.READ
            token, _ = mint_token(user, scope=scope, name=options["name"])
            self.stdout.write(token)
            return
        if options["user"] is not None:
            if options["token_prefix"]:
                raise CommandError("give a token prefix or --user, not both")
            self._revoke_all(options["user"])
            return
        prefix = (options["token_prefix"] or "").strip()
        if len(prefix) < 7:
            raise CommandError("give at least the first 7 characters of the token")
        rows = ApiToken.objects.filter(revoked_at__isnull=True)
        matches = [
            r
            for r in rows.filter(prefix__startswith=prefix[:PREFIX_LENGTH])
            if r.prefix.startswith(prefix[:PREFIX_LENGTH])
        ]
        if len(prefix) > PREFIX_LENGTH:
            # more than the stored prefix can only be checked as the whole token: a mistyped
            # or partial token must not revoke whichever token shares its first characters
            matches = [r for r in matches if r.token_hash == hash_token(prefix)]
            if not matches:
                raise CommandError(
                    f"no active token is {prefix[:PREFIX_LENGTH]}…: give the whole token or only its "
                    f"first {PREFIX_LENGTH} characters"
                )
        if not matches:
            raise CommandError(f"no active token starts with {prefix!r}")
        if len(matches) > 1:
            raise CommandError(f"{len(matches)} tokens start with {prefix!r}; give more characters")
        ApiToken.objects.filter(pk=matches[0].pk).update(revoked_at=timezone.now())
        self.stdout.write(f"revoked {matches[0].prefix}… ({matches[0].user})")

    def _revoke_all(self, username: str) -> None:
        """Every active token of ``username``: what an operator does after a password leak, since a
        password change signs the user's sessions out but leaves tokens working."""
        user = get_or_create_user(username, create=False)
        if user is None:
            raise CommandError(f"no user {username!r}")
        count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.stdout.write(f"revoked {count} token{'s' if count != 1 else ''} of {user}")

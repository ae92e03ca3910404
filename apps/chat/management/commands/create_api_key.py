from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.chat.keys import api_key_create
from apps.chat.models import API_KEY_SCOPES
from lib.errors import TwinsiteError


class Command(BaseCommand):
    help = "Create an API key for a user; the key is printed once, alone on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="Username the key acts as.")
        parser.add_argument("--name", default="command line", help="What the key is for.")
        parser.add_argument(
            "--scopes",
            default=",".join(API_KEY_SCOPES),
            help=f"Comma-separated, of: {', '.join(API_KEY_SCOPES)} (default: all; staff acts only for staff).",
        )
        parser.add_argument("--expires-in-days", type=int, default=None, help="Default: the key does not expire.")

    def handle(self, *args, user: str, name: str, scopes: str, expires_in_days: int | None, **options) -> None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user is called {user!r}.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days: give at least one day.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            api_key, key = api_key_create(user=account, name=name, scopes=wanted, expires_at=expires_at)
        except TwinsiteError as exc:
            raise CommandError(f"--scopes: {exc}") from None
        until = f", until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
        self.stderr.write(
            f"API key {api_key.prefix}… for {account} ({name}; {', '.join(api_key.scopes)}{until}). "
            "It is shown once; keep it secret."
        )
        self.stdout.write(key)

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.chat.keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a user; the key is printed once, alone on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="Username the key acts as.")
        parser.add_argument("--name", default="command line", help="What the key is for.")

    def handle(self, *args, user: str, name: str, **options) -> None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user is called {user!r}.")
        api_key, key = api_key_create(user=account, name=name)
        self.stderr.write(f"API key {api_key.prefix}… for {account} ({name}). It is shown once; keep it secret.")
        self.stdout.write(key)

"""Make sure an administrator exists, from DJANGO_SUPERUSER_* or with a hint to set a password."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user from DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL, or say how to set one."

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if username and password:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"email": os.environ.get("DJANGO_SUPERUSER_EMAIL", "")}
            )
            if created or not user.has_usable_password():
                user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
            self.stdout.write(f"Admin user {username!r} {'created' if created else 'is ready'}.")
            return
        admin = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            admin = user_model.objects.create(username=username or "admin", is_staff=True, is_superuser=True)
            admin.set_unusable_password()
            admin.save()
        if not admin.has_usable_password():
            self.stdout.write(
                self.style.WARNING(
                    f"Admin user {admin.username!r} has no password yet. Set one with:\n"
                    f"    .venv/bin/python manage.py changepassword {admin.username}\n"
                    "or start with DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD set."
                )
            )

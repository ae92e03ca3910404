import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The persona fixtures each hash a password: PBKDF2 takes about a second apiece on these shared cores."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

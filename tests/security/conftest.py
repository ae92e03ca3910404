"""Personas and clients for the attack tests: a staff key, a plain user's key, and their owners."""

import pytest
from rest_framework.test import APIClient

from apps.chat.keys import api_key_create


def key_client(user, *, name: str = "attack", **key_options) -> APIClient:
    client = APIClient()
    _, key = api_key_create(user=user, name=name, **key_options)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="staffer", password="pw-staffer-1", is_staff=True)


@pytest.fixture
def mallory(django_user_model):
    """A signed-up user who is not staff: holds an ordinary key."""
    return django_user_model.objects.create_user(username="mallory", password="pw-mallory-1")


@pytest.fixture
def staff_api(staff) -> APIClient:
    return key_client(staff)


@pytest.fixture
def user_api(mallory) -> APIClient:
    return key_client(mallory)

"""Finding 9: repeated wrong passwords on the admin's and the labeling screens' sign-in lock that pair out.

The attack: 25 wrong passwords for one user name, then the right one, through the real sign-in form
(CSRF token and all): all were accepted. Now the fifth try on is refused with a 429, the right
password too, while the same user elsewhere and other users here still sign in.
The fifth wrong password (LOGIN_FAILURE_LIMIT) is the one that locks.
"""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def sign_in(client: Client, username: str, password: str, *, next_url: str = "/admin/", ip: str = "203.0.113.7"):
    page = client.get(f"{LOGIN}?next={next_url}", REMOTE_ADDR=ip)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": next_url}
    return client.post(LOGIN, form, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_after_five_wrong_passwords_even_the_right_one_is_refused(curator):
    client = Client(enforce_csrf_checks=True)
    statuses = [sign_in(client, "curator", f"guess-{n}").status_code for n in range(25)]
    assert statuses == [200] * 4 + [429] * 21  # the form says "wrong" four times; the fifth locks

    response = sign_in(client, "curator", "pw-curator-1")
    assert response.status_code == 429 and not signed_in(client)
    assert "too many" in response.content.decode().lower()


def test_the_labeling_screens_sign_in_is_locked_the_same_way(annotator):
    client = Client(enforce_csrf_checks=True)
    redirect = client.get("/label/", REMOTE_ADDR="203.0.113.7")
    assert redirect.status_code == 302 and redirect["Location"].startswith(f"{LOGIN}?next=/label/")
    statuses = [sign_in(client, "annotator", f"guess-{n}", next_url="/label/").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    response = sign_in(client, "annotator", "pw-annotator-1", next_url="/label/")
    assert response.status_code == 429 and not signed_in(client)
    assert client.get("/label/", REMOTE_ADDR="203.0.113.7").status_code == 302


def test_the_lock_holds_one_user_name_from_one_address_only(curator, annotator):
    attacker = Client(enforce_csrf_checks=True)
    assert [sign_in(attacker, "curator", f"guess-{n}").status_code for n in range(5)][-1] == 429

    elsewhere = Client(enforce_csrf_checks=True)  # the real curator, from another address
    assert sign_in(elsewhere, "curator", "pw-curator-1", ip="198.51.100.20").status_code == 302
    assert signed_in(elsewhere)
    colleague = Client(enforce_csrf_checks=True)  # another user behind the attacker's address
    assert sign_in(colleague, "annotator", "pw-annotator-1").status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(curator):
    client = Client(enforce_csrf_checks=True)
    for n in range(4):
        sign_in(client, "curator", f"guess-{n}")
    assert sign_in(client, "curator", "pw-curator-1").status_code == 302
    client.logout()
    statuses = [sign_in(client, "curator", f"again-{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # counting started again from zero

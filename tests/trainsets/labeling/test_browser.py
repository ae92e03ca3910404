"""The pair screen in a real browser (Debian's Chromium via Playwright) against a running ASGI server:
an annotator edits an answer, picks it, and judges the next pair, all from the keyboard."""

import os
import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from apps.trainsets.models import PreferenceLabel
from tests.asgi import asgi_server
from tests.browser import chromium_page, needs_chromium
from tests.trainsets.factories import make_pair

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def test_an_annotator_labels_pairs_with_the_keyboard_only(tmp_path, annotator):
    first = make_pair(chosen="Proof it overnight in the fridge, covered.", rejected="Proofing times vary by recipe.")
    second = make_pair(chosen="Back up with pg_dump every night.", rejected="Backups are important.")
    # Signed in by its session cookie: the form login is the admin's, and not what this test is about.
    signed_in = Client()
    signed_in.force_login(annotator)
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value

    # DEBUG=1: WhiteNoise serves the apps' static files from their folders (WHITENOISE_USE_FINDERS follows
    # DEBUG), which spares this test a collectstatic of about ten seconds on these cores.
    with asgi_server(tmp_path, DEBUG="1") as base, chromium_page() as page:
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
        page.goto(f"{base}/label/pairs/next/")
        expect(page).to_have_url(f"{base}/label/pairs/{first.pk}/")
        progress = page.locator("#labeling-progress-text")
        expect(progress).to_have_text("0 of 2 pairs labeled, 2 left")
        expect(page.locator("#labeling-keys")).to_contain_text("E edit the answers")
        answer_a = page.locator("#answer-a .labeling-answer-text").inner_text()

        page.keyboard.press("e")  # opens the editors, in answer A
        expect(page.locator("#id_answer_a")).to_be_focused()
        page.keyboard.type(" Keep it at 4 C, a tested bake.")  # shortcut letters here are text, not verdicts
        page.keyboard.press("Escape")
        expect(page.locator("#answer-a")).to_have_class(re.compile(r"\blabeling-edited\b"))
        expect(page).to_have_url(f"{base}/label/pairs/{first.pk}/")  # no key while editing sent the form
        if os.environ.get("LABELING_SCREENSHOT"):  # for a person to look at the screen
            page.screenshot(path=os.environ["LABELING_SCREENSHOT"], full_page=True)
        page.keyboard.press("1")  # A is better

        expect(page).to_have_url(f"{base}/label/pairs/{second.pk}/")
        expect(progress).to_have_text("1 of 2 pairs labeled, 1 left")
        expect(page.locator("#labeling-last")).to_contain_text(f"pair {first.pk}, a is better, edited")
        page.keyboard.press("x")  # both bad

        expect(page.get_by_role("status")).to_have_text(re.compile("You have labeled every pair open to labeling"))
        expect(progress).to_have_text("2 of 2 pairs labeled, 0 left")

    labels = {label.pair_id: label for label in PreferenceLabel.objects.filter(annotator=annotator)}
    edited = labels[first.pk]
    assert edited.choice == "a" and edited.chosen_shown_first == (answer_a == first.chosen)
    assert edited.edited_answer == f"{answer_a} Keep it at 4 C, a tested bake."
    assert labels[second.pk].choice == "both_bad" and labels[second.pk].edited_answer == ""

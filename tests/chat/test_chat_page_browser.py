"""The chat page in a real browser (Debian's Chromium, driven by Playwright) against a running ASGI server.

A reader who is not staff signs in on a phone-sized screen with the keyboard alone, asks a twin, watches the
answer stream in, opens a cited source, rates the answer, rewrites it (a preference pair for training), and
renames and deletes the conversation.
"""

import os
import re

import pytest
from playwright.sync_api import Page, expect

from apps.chat.models import Conversation, Feedback
from apps.trainsets.generation.pairs import preference_pairs_from_feedback
from apps.trainsets.models import PreferencePair
from tests.asgi import asgi_server
from tests.browser import chromium_page, needs_chromium, outside_the_browser_loop
from tests.rag.corpus import crawl_corpus, write_corpus

READER = ("reader", "pw-reader-1")
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 300_000  # generous: the first answer of a run also converts the packaged model
QUESTION = "How long does the sourdough proof, and where?"
EDIT = "Overnight, in the fridge, after four sets of stretch and folds [2]."

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def reader(django_user_model):
    username, password = READER
    return django_user_model.objects.create_user(username=username, password=password)


def sign_in_with_the_keyboard(page: Page, base: str) -> None:
    page.goto(f"{base}/chat/")
    expect(page).to_have_url(f"{base}/chat/login/?next=/chat/")
    username, password = READER
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/chat/")


def assert_no_sideways_scrolling(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


def test_a_reader_asks_a_twin_on_a_phone_rates_and_edits_the_answer_then_renames_and_deletes_it(
    tmp_path, serve_dir, crawl_settings, reader
):
    folder = tmp_path / "blog"
    write_corpus(folder)
    site = serve_dir(folder)
    crawl_corpus(folder, site)

    with asgi_server(tmp_path, collect_static=True) as base, chromium_page(viewport=PHONE) as page:
        sign_in_with_the_keyboard(page, base)
        expect(page.locator("#twin option")).to_have_text(["All authors", "Ada Example"])
        expect(page.get_by_text("None yet.")).to_be_visible()
        page.get_by_label("Twin").select_option("Ada Example")
        # Note whether answer text shows while the answer is still open (before its feedback buttons appear).
        page.evaluate(
            """() => {
                window.shownWhileStreaming = false;
                const transcript = document.getElementById('transcript');
                new MutationObserver(() => {
                    const turn = [...transcript.querySelectorAll('.turn')].pop();
                    const text = turn && turn.querySelector('.answer').textContent.trim();
                    if (text && turn.querySelector('.feedback').hidden) window.shownWhileStreaming = true;
                }).observe(transcript, {childList: true, subtree: true, characterData: true});
            }"""
        )
        page.get_by_label("Message").fill(QUESTION)
        page.get_by_label("Message").press("Enter")

        turn = page.locator(".turn").last
        expect(turn.get_by_role("button", name="Good answer")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(turn.get_by_role("alert")).to_be_hidden()
        assert page.evaluate("window.shownWhileStreaming")  # streamed: text arrived before the answer was done
        source = turn.get_by_role("link", name="My sourdough routine")
        expect(source).to_have_attribute("href", f"{site}/sourdough.html")
        expect(source).to_have_attribute("target", "_blank")
        conversation = page.get_by_role("navigation").get_by_role("link", name=QUESTION)
        expect(conversation).to_have_attribute("aria-current", "true")
        assert_no_sideways_scrolling(page)

        turn.get_by_role("button", name="Good answer").click()
        expect(turn.get_by_role("button", name="Good answer")).to_have_attribute("aria-pressed", "true")
        answer_text = turn.locator(".answer").inner_text()

        turn.get_by_role("button", name="Edit the answer").click()
        editor = turn.get_by_label("Your better answer, in the author's voice")
        expect(editor).to_be_focused()
        expect(editor).to_have_value(answer_text)
        editor.fill(EDIT)
        turn.get_by_role("button", name="Save edit").click()
        expect(turn.get_by_role("status")).to_have_text("Thanks: your edit was saved, and will teach the twin.")
        expect(turn.get_by_role("button", name="Bad answer")).to_have_attribute("aria-pressed", "true")

        feedback = outside_the_browser_loop(lambda: Feedback.objects.select_related("message").get())
        assert (feedback.rating, feedback.edited_answer, feedback.user_id) == ("down", EDIT, reader.pk)
        outside_the_browser_loop(preference_pairs_from_feedback)
        pair = outside_the_browser_loop(lambda: PreferencePair.objects.get())
        assert (pair.prompt, pair.chosen, pair.rejected) == (QUESTION, EDIT, feedback.message.content)

        # A fresh page: the conversation is listed, and opens with its answer and sources.
        page.reload()
        page.get_by_role("navigation").get_by_role("link", name=QUESTION).click()
        expect(page.locator(".turn .asked-text")).to_have_text([QUESTION])
        expect(page.locator(".turn").get_by_role("link", name="My sourdough routine")).to_be_visible()

        item = page.locator(".conversation").first
        item.get_by_role("button", name="Rename").click()
        expect(item.get_by_label("New title")).to_be_focused()
        page.keyboard.type("Bread timings")
        page.keyboard.press("Enter")
        expect(page.get_by_role("navigation").get_by_role("link", name="Bread timings")).to_be_focused()
        expect(page.locator("#conversation-title")).to_have_text("Bread timings")
        assert outside_the_browser_loop(lambda: Conversation.objects.get().title) == "Bread timings"

        page.once("dialog", lambda dialog: dialog.accept())
        item.get_by_role("button", name="Delete").click()
        expect(page.get_by_text("None yet.")).to_be_visible()
        expect(page.locator(".turn")).to_have_count(0)
        assert not outside_the_browser_loop(lambda: Conversation.objects.exists())
        assert_no_sideways_scrolling(page)
        # For a person to look at: CHAT_SCREENSHOT=/tmp/chat.png keeps it after the run.
        page.screenshot(path=os.environ.get("CHAT_SCREENSHOT", str(tmp_path / "chat.png")), full_page=True)


def test_a_wrong_password_is_refused_on_the_page(tmp_path, reader):
    with asgi_server(tmp_path, collect_static=True) as base, chromium_page() as page:
        page.goto(f"{base}/chat/login/")
        page.get_by_label("Username").fill("reader")
        page.get_by_label("Password").fill("not-it")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text(re.compile("didn't match"))

"""The labeling screens over HTTP: who may use them, CSRF, and a label's way from the page to the statistics."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.trainsets.models import InstructionSample, PreferenceLabel, Review
from tests.factories import make_author, make_document
from tests.trainsets.factories import make_label, make_pair, make_sample

pytestmark = pytest.mark.django_db


def shown_answers(page: str) -> tuple[bool, str, str]:
    """What a pair page showed: whether A is the pair's chosen answer (the form's claim), and A's and B's text."""
    first = re.search(r'name="chosen_shown_first" value="(true|false)"', page).group(1) == "true"
    texts = re.findall(r'<div class="labeling-text labeling-answer-text">(.*?)</div>', page, re.S)
    return first, *(html.unescape(text) for text in texts)


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def screens() -> list[tuple[str, str]]:
    pair, sample = make_pair(), make_sample()
    return [
        ("get", reverse("labeling-home")),
        ("get", reverse("labeling-next")),
        ("get", reverse("labeling-pair", args=[pair.pk])),
        ("post", reverse("labeling-pair", args=[pair.pk])),
        ("get", reverse("labeling-stats")),
        ("get", reverse("labeling-samples")),
        ("post", reverse("labeling-sample-review", args=[sample.pk])),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client):
    for method, url in screens():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('admin:login')}?next={url}"


def test_people_outside_the_annotators_group_get_a_403_that_says_why(client, outsider, django_user_model):
    staff = django_user_model.objects.create_user(username="staffer", password="pw-staffer-1", is_staff=True)
    pair_post = {"chosen_shown_first": "true", "choice": "a"}
    for user in (outsider, staff):
        client.force_login(user)
        for method, url in screens():
            response = getattr(client, method)(url, pair_post if method == "post" else None)
            assert response.status_code == 403, (user, url)
            assert "in the <strong>annotators</strong> group" in response.content.decode()
    assert not PreferenceLabel.objects.exists()
    assert not InstructionSample.objects.exclude(review=Review.PENDING).exists()


def test_annotators_and_superusers_get_every_screen(client, annotator, curator):
    for user in (annotator, curator):
        client.force_login(user)
        for method, url in screens():
            if method == "get":
                assert client.get(url, follow=True).status_code == 200, (user, url)


def test_the_admin_index_links_the_labeling_screens(client, annotator):
    client.force_login(annotator)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{reverse("labeling-home")}">Labeling</a>' in page


def test_a_label_post_needs_the_csrf_token(annotator):
    pair = make_pair()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(annotator)
    page = browser.get(reverse("labeling-pair", args=[pair.pk])).content.decode()
    first, _, _ = shown_answers(page)
    verdict = {"chosen_shown_first": "true" if first else "false", "choice": "a"}

    forged = browser.post(reverse("labeling-pair", args=[pair.pk]), verdict)
    assert forged.status_code == 403 and not PreferenceLabel.objects.exists()

    sent = browser.post(reverse("labeling-pair", args=[pair.pk]), {**verdict, "csrfmiddlewaretoken": csrf_token(page)})
    assert sent.status_code == 302 and PreferenceLabel.objects.get().choice == "a"


def test_a_sample_review_needs_the_csrf_token(annotator):
    sample = make_sample()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(annotator)
    page = browser.get(reverse("labeling-samples")).content.decode()
    url = reverse("labeling-sample-review", args=[sample.pk])

    assert browser.post(url, {"decision": "approved"}).status_code == 403
    assert browser.post(url, {"decision": "approved", "csrfmiddlewaretoken": csrf_token(page)}).status_code == 302
    sample.refresh_from_db()
    assert sample.review == "approved"


def test_the_answers_are_shown_in_a_random_order_that_the_form_reports(client, annotator):
    pair = make_pair(chosen="The author's own words.", rejected="A model's generic answer.")
    client.force_login(annotator)
    orders = set()
    for _ in range(20):  # both orders turn up: all twenty alike has a chance of 2 in a million
        first, a, b = shown_answers(client.get(reverse("labeling-pair", args=[pair.pk])).content.decode())
        assert (a, b) == ((pair.chosen, pair.rejected) if first else (pair.rejected, pair.chosen))
        orders.add(first)
    assert orders == {True, False}


def test_a_label_round_trips_from_the_page_to_the_store_and_the_statistics(client, annotator):
    pair = make_pair(chosen="Proof it overnight in the fridge.", rejected="Proofing times vary.")
    later = make_pair()
    client.force_login(annotator)

    assert client.get(reverse("labeling-next"))["Location"] == reverse("labeling-pair", args=[pair.pk])
    page = client.get(reverse("labeling-pair", args=[pair.pk])).content.decode()
    assert "0 of 2 pairs labeled, 2 left" in page and "Proof it overnight in the fridge." in page
    first, a, b = shown_answers(page)
    generic = "b" if first else "a"  # the side showing the rejected answer
    response = client.post(
        reverse("labeling-pair", args=[pair.pk]),
        {"chosen_shown_first": "true" if first else "false", "choice": generic, "answer_a": a, "answer_b": b},
    )

    assert response.status_code == 302 and response["Location"] == reverse("labeling-next")
    label = PreferenceLabel.objects.get(pair=pair, annotator=annotator)
    assert (label.chosen_shown_first, label.choice, label.prefers, label.edited_answer) == (
        first, generic, "rejected", ""
    )  # fmt: skip
    # The queue moves on, and the page says what was saved.
    assert client.get(reverse("labeling-next"))["Location"] == reverse("labeling-pair", args=[later.pk])
    page = client.get(reverse("labeling-pair", args=[later.pk])).content.decode()
    assert "1 of 2 pairs labeled, 1 left" in page
    assert f"Last saved: pair {pair.pk}, {'b' if first else 'a'} is better." in page
    stats = client.get(reverse("labeling-stats")).content.decode()
    row = re.search(r'<th scope="row">annotator</th>(.*?)</tr>', stats, re.S).group(1)
    # labels, chosen better, rejected better, tie, both bad, skipped, edited
    assert re.findall(r'<td class="number">(\d+)</td>', row) == ["1", "0", "1", "0", "0", "0", "0"]


def test_an_edit_of_the_chosen_side_is_stored_as_the_edited_answer(client, annotator):
    pair = make_pair()
    client.force_login(annotator)
    first, a, b = shown_answers(client.get(reverse("labeling-pair", args=[pair.pk])).content.decode())
    edited = "My better answer,\r\nin two lines.\r\n"

    client.post(
        reverse("labeling-pair", args=[pair.pk]),
        {"chosen_shown_first": "true" if first else "false", "choice": "b", "answer_a": a, "answer_b": edited},
    )

    label = PreferenceLabel.objects.get()
    assert label.edited_answer == "My better answer,\nin two lines."
    assert label.prefers == ("rejected" if first else "chosen")


def test_an_edit_of_the_side_not_chosen_is_refused_and_kept_on_screen(client, annotator):
    pair = make_pair()
    client.force_login(annotator)
    first, a, b = shown_answers(client.get(reverse("labeling-pair", args=[pair.pk])).content.decode())

    response = client.post(
        reverse("labeling-pair", args=[pair.pk]),
        {"chosen_shown_first": "true" if first else "false", "choice": "a", "answer_a": a, "answer_b": "Fixed B."},
    )

    assert response.status_code == 400 and not PreferenceLabel.objects.exists()
    page = response.content.decode()
    assert "answer_b: You edited answer B but chose A: choose B, or undo the edit." in page
    assert re.search(r'<textarea name="answer_b"[^>]*>\s*Fixed B\.</textarea>', page)
    assert shown_answers(page)[0] == first  # the same order as before, so the annotator's view holds


def test_a_bad_choice_is_refused_naming_the_field(client, annotator):
    pair = make_pair()
    client.force_login(annotator)
    response = client.post(reverse("labeling-pair", args=[pair.pk]), {"chosen_shown_first": "true", "choice": "c"})
    assert response.status_code == 400
    assert "choice: Select a valid choice. c is not one of the available choices." in response.content.decode()


def test_skipping_leaves_the_queue_and_the_last_pair_ends_it(client, annotator):
    pair = make_pair()
    client.force_login(annotator)
    client.post(reverse("labeling-pair", args=[pair.pk]), {"chosen_shown_first": "true", "choice": "skip"})

    assert PreferenceLabel.objects.get().choice == "skip"
    page = client.get(reverse("labeling-next")).content.decode()
    assert "You have labeled every pair open to labeling." in page
    home = client.get(reverse("labeling-home")).content.decode()
    assert f'<a href="{reverse("labeling-pair", args=[pair.pk])}">Change</a>' in home  # a skip can be revisited


def test_filtered_pairs_are_not_shown(client, annotator):
    pair = make_pair(review=Review.FILTERED)
    client.force_login(annotator)
    assert client.get(reverse("labeling-pair", args=[pair.pk])).status_code == 404
    assert "No preference pairs are waiting" in client.get(reverse("labeling-next")).content.decode()


def test_the_statistics_show_agreement_between_annotators_whatever_order_each_saw(client, annotator, curator):
    pairs = [make_pair() for _ in range(4)]
    # The curator saw the chosen answer first; the annotator the other way round (so their "b" is "chosen").
    for pair, prefers in zip(pairs, ["chosen", "chosen", "rejected", "tie"], strict=True):
        make_label(pair=pair, annotator=curator, prefers=prefers)
    for pair, choice in zip(pairs, ["b", "a", "a", "tie"], strict=True):
        make_label(pair=pair, annotator=annotator, choice=choice, chosen_shown_first=False)
    make_label(pair=make_pair(), annotator=annotator, prefers="skip")
    client.force_login(annotator)

    page = client.get(reverse("labeling-stats")).content.decode()

    row = re.search(r'<th scope="row">annotator – curator</th>(.*?)</tr>', page, re.S).group(1)
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    # 3 of 4 agree; kappa = (3*4 - 5) / (16 - 5) = 0.64
    assert cells == ["4", "75.0%", "0.64", "substantial"]
    assert re.search(r'id="stat-agreement">75\.0%<', page)
    assert re.search(r'id="stat-multiple">4<', page) and re.search(r'id="stat-labeled">4<', page)


def test_samples_are_filtered_by_state_and_author_and_paginated(client, annotator):
    ada, grace = make_author(name="Ada Example"), make_author(name="Grace Example")
    ada_doc = make_document(source=None)
    ada_doc.author = ada
    ada_doc.save()
    pending = [make_sample(document=ada_doc, extract=f"Ada's passage {n}.") for n in range(23)]
    make_sample(document=ada_doc, extract="Already approved.", review=Review.APPROVED)
    grace_doc = make_document()
    grace_doc.author = grace
    grace_doc.save()
    make_sample(document=grace_doc, extract="Grace's passage.")
    client.force_login(annotator)

    first = client.get(reverse("labeling-samples"), {"review": "pending", "author": ada.pk}).content.decode()
    second = client.get(reverse("labeling-samples"), {"review": "pending", "author": ada.pk, "page": 2}).content

    assert re.findall(r'id="sample-(\d+)"', first) == [str(s.pk) for s in pending[:20]]
    assert re.findall(r'id="sample-(\d+)"', second.decode()) == [str(s.pk) for s in pending[20:]]
    assert "Page 1 of 2 (23 samples)" in first
    assert f'href="?review=pending&amp;author={ada.pk}&amp;page=2"' in first
    assert "Grace&#x27;s passage." not in first
    everything = client.get(reverse("labeling-samples")).content.decode()
    assert "Page 1 of 2 (25 samples)" in everything


def test_a_reviewer_approves_with_an_edit_and_returns_to_the_list(client, annotator):
    sample = make_sample(answer="The first draft.")
    client.force_login(annotator)
    back = f"{reverse('labeling-samples')}?review=pending"

    response = client.post(
        reverse("labeling-sample-review", args=[sample.pk]),
        {"decision": "approved", "answer": "The corrected answer.", "next": back},
    )

    assert response["Location"] == back
    sample.refresh_from_db()
    assert (sample.answer, sample.original_answer) == ("The corrected answer.", "The first draft.")
    assert sample.review == "approved"
    assert sample.reviewed_by == annotator and sample.reviewed_at is not None
    page = client.get(reverse("labeling-samples"), {"review": "approved"}).content.decode()
    assert f"Sample {sample.pk} approved." in page and "The first draft." in page  # the first version stays visible


def test_rejecting_ignores_an_edit_and_an_outside_next_goes_back_to_the_list(client, annotator):
    sample = make_sample(answer="Kept as is.")
    client.force_login(annotator)
    response = client.post(
        reverse("labeling-sample-review", args=[sample.pk]),
        {"decision": "rejected", "answer": "Half an edit", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("labeling-samples")
    sample.refresh_from_db()
    assert (sample.review, sample.answer, sample.original_answer) == ("rejected", "Kept as is.", "")


def test_an_empty_approved_answer_is_refused_with_the_field_named(client, annotator):
    sample = make_sample(answer="Kept as is.")
    client.force_login(annotator)
    url = reverse("labeling-sample-review", args=[sample.pk])
    page = client.post(url, {"decision": "approved", "answer": "  "}, follow=True).content.decode()
    assert f"Sample {sample.pk} was not reviewed: answer: The answer cannot be empty" in page
    sample.refresh_from_db()
    assert sample.review == "pending" and sample.answer == "Kept as is."

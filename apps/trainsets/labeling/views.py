"""The labeling screens: a queue of preference pairs to judge one at a time, agreement statistics, and the
review of instruction samples. Server-rendered forms that work without JavaScript; labeling.js adds the
keyboard shortcuts."""

import secrets

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.trainsets.labeling import selectors, services
from apps.trainsets.labeling.forms import (
    InstructionSampleFilterForm,
    InstructionSampleReviewForm,
    PreferenceLabelForm,
    answers_shown,
)
from apps.trainsets.labeling.permissions import annotator_required
from apps.trainsets.models import InstructionSample, Review

SAMPLES_PER_PAGE = 20


def _render(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> TemplateResponse:
    # The admin's header, user links and theme: annotators are staff who already know that look.
    context = {**admin.site.each_context(request), **context}
    return TemplateResponse(request, f"trainsets/labeling/{template}", context, status=status)


def _add_service_errors(form: Form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@require_GET
@annotator_required
def labeling_home(request: HttpRequest) -> TemplateResponse:
    context = {
        "title": "Labeling",
        "progress": selectors.labeling_progress(annotator=request.user),
        "recent": selectors.preference_labels_recent(annotator=request.user),
        "samples_pending": selectors.instruction_sample_review_counts()[Review.PENDING],
    }
    return _render(request, "home.html", context)


@require_GET
@annotator_required
def preference_pair_next(request: HttpRequest) -> HttpResponse:
    """The annotator's next pair, or a page saying the queue is empty."""
    pair = selectors.preference_pair_next(annotator=request.user)
    if pair is None:
        context = {"title": "Nothing left to label", "progress": selectors.labeling_progress(annotator=request.user)}
        return _render(request, "queue_empty.html", context)
    return redirect("labeling-pair", pair_id=pair.pk)


@require_http_methods(["GET", "POST"])
@annotator_required
def preference_pair_label(request: HttpRequest, pair_id: int) -> HttpResponse:
    """Show a pair with its answers in a random order (GET), store the verdict and go on to the next (POST)."""
    pair = selectors.preference_pair_labelable(pair_id=pair_id)
    if pair is None:
        raise Http404(f"No pair {pair_id} is open to labeling.")
    if request.method == "POST":
        form = PreferenceLabelForm(request.POST, pair=pair)
        if form.is_valid():
            try:
                services.preference_label_record(
                    pair=pair,
                    annotator=request.user,
                    chosen_shown_first=form.cleaned_data["chosen_shown_first"],
                    choice=form.cleaned_data["choice"],
                    edited_answer=form.cleaned_data["edited_answer"],
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                return redirect("labeling-next")
        chosen_shown_first = request.POST.get("chosen_shown_first") == "true"
        status = 400
    else:
        chosen_shown_first = secrets.choice((True, False))  # stored with the label: position bias is measurable
        shown = answers_shown(pair, chosen_shown_first=chosen_shown_first)
        initial = {"chosen_shown_first": "true" if chosen_shown_first else "false"}
        form = PreferenceLabelForm(pair=pair, initial={**initial, "answer_a": shown["a"], "answer_b": shown["b"]})
        status = 200
    shown = answers_shown(pair, chosen_shown_first=chosen_shown_first)
    context = {
        "title": "Which answer is better?",
        "pair": pair,
        "form": form,
        "answers": [("a", "A", shown["a"], form["answer_a"]), ("b", "B", shown["b"], form["answer_b"])],
        "progress": selectors.labeling_progress(annotator=request.user),
        "previous": selectors.preference_label_of(pair=pair, annotator=request.user),
        "last": next(iter(selectors.preference_labels_recent(annotator=request.user, limit=1)), None),
    }
    return _render(request, "pair.html", context, status=status)


@require_GET
@annotator_required
def labeling_stats(request: HttpRequest) -> TemplateResponse:
    return _render(request, "stats.html", {"title": "Labeling statistics", "stats": selectors.labeling_stats()})


@require_GET
@annotator_required
def instruction_sample_list(request: HttpRequest) -> TemplateResponse:
    """Samples to approve, edit or reject, filtered by state and author, a page at a time."""
    filters = InstructionSampleFilterForm(request.GET or None, authors=selectors.instruction_sample_authors())
    review, author = "", None
    if filters.is_bound and filters.is_valid():
        review, author = filters.cleaned_data["review"], filters.cleaned_data["author"]
    author_id = author.pk if author else None
    samples = selectors.instruction_sample_list(review=review, author_id=author_id)
    page = Paginator(samples, SAMPLES_PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.instruction_sample_review_counts(author_id=author_id)
    context = {
        "title": "Instruction samples",
        "filters": filters,
        "page": page,
        "states": [(value, label, counts[value]) for value, label in Review.choices],
        "review": review,
        "here": request.get_full_path(),
    }
    return _render(request, "samples.html", context)


@require_POST
@annotator_required
def instruction_sample_review(request: HttpRequest, sample_id: int) -> HttpResponse:
    """Approve (optionally with an edited answer) or reject one sample, then go back to the list."""
    sample = get_object_or_404(InstructionSample, pk=sample_id)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("labeling-samples")
    form = InstructionSampleReviewForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        messages.error(request, f"Sample {sample.pk} was not reviewed: {problems}")
        return redirect(back)
    decision = form.cleaned_data["decision"]
    # Rejecting ignores an edit in progress: a rejected sample's text goes nowhere.
    answer = form.cleaned_data["answer"] if decision == Review.APPROVED and "answer" in request.POST else None
    try:
        services.instruction_sample_review(sample=sample, reviewer=request.user, decision=decision, answer=answer)
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        messages.error(request, f"Sample {sample.pk} was not reviewed: {problems}")
    else:
        messages.success(request, f"Sample {sample.pk} {Review(decision).label.lower()}.")
    return redirect(back)

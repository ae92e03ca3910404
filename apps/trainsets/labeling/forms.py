"""Forms of the labeling screens: they check what a browser sent; the services decide what is stored."""

from django import forms

from apps.sources.models import Author
from apps.trainsets.labeling.services import SAMPLE_DECISIONS, normalize_text
from apps.trainsets.models import PreferenceLabel, PreferencePair, Review

Choice = PreferenceLabel.Choice


def answers_shown(pair: PreferencePair, *, chosen_shown_first: bool) -> dict[str, str]:
    """The two answers as the screen labels them, A and B."""
    if chosen_shown_first:
        return {"a": pair.chosen, "b": pair.rejected}
    return {"a": pair.rejected, "b": pair.chosen}


class PreferenceLabelForm(forms.Form):
    """A verdict on a pair, with both answers as the annotator left them (possibly edited)."""

    chosen_shown_first = forms.TypedChoiceField(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", widget=forms.HiddenInput
    )
    choice = forms.ChoiceField(choices=Choice.choices)
    answer_a = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    answer_b = forms.CharField(required=False, strip=False, widget=forms.Textarea)

    def __init__(self, *args, pair: PreferencePair, **kwargs):
        super().__init__(*args, **kwargs)
        self.pair = pair

    def clean(self) -> dict:
        data = super().clean()
        if "chosen_shown_first" not in data or "choice" not in data:
            return data
        shown = answers_shown(self.pair, chosen_shown_first=data["chosen_shown_first"])
        # An answer counts as edited when its text differs from what was shown (a client may omit the field).
        edits = {}
        for side in "ab":
            if f"answer_{side}" in self.data:
                text = normalize_text(data[f"answer_{side}"])
                if text != normalize_text(shown[side]):
                    edits[side] = text
        choice = data["choice"]
        data["edited_answer"] = ""
        if choice == Choice.SKIP:
            return data  # skipping keeps nothing, edits included
        if choice in (Choice.A, Choice.B):
            other = "b" if choice == Choice.A else "a"
            if other in edits:
                mine, theirs = choice.upper(), other.upper()
                message = f"You edited answer {theirs} but chose {mine}: choose {theirs}, or undo the edit."
                self.add_error(f"answer_{other}", message)
            if choice in edits and not edits[choice]:
                self.add_error(f"answer_{choice}", "The edited answer is empty: write it, or undo the edit.")
            data["edited_answer"] = edits.get(choice, "")
            return data
        for side in edits:
            message = "An edit is kept only with the answer you prefer: choose it, or undo the edit."
            self.add_error(f"answer_{side}", message)
        return data


class InstructionSampleReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[(value, Review(value).label) for value in SAMPLE_DECISIONS])
    answer = forms.CharField(required=False, strip=False, widget=forms.Textarea)


class InstructionSampleFilterForm(forms.Form):
    review = forms.ChoiceField(choices=[("", "Any state"), *Review.choices], required=False, label="State")
    author = forms.ModelChoiceField(queryset=Author.objects.none(), required=False, empty_label="Any author")

    def __init__(self, *args, authors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["author"].queryset = authors

"""Builders for training data, on top of tests.factories."""

import hashlib
import itertools

from apps.trainsets.models import InstructionSample, PreferenceLabel, PreferencePair
from tests.factories import make_document

_seq = itertools.count(1)


def make_sample(*, document=None, extract: str | None = None, **fields) -> InstructionSample:
    document = document or make_document()
    n = next(_seq)
    extract = extract if extract is not None else f"The author's passage number {n}, in their own words."
    return InstructionSample.objects.create(
        **{
            "author": document.author,
            "document": document,
            "mode": InstructionSample.Mode.OWN_TEXT,
            "extract": extract,
            "extract_hash": hashlib.sha256(extract.encode()).hexdigest(),
            "instruction": f"Write about topic {n}.",
            "answer": extract,
            **fields,
        }
    )


def make_pair(*, sample: InstructionSample | None = None, **fields) -> PreferencePair:
    sample = sample or make_sample()
    return PreferencePair.objects.create(
        **{
            "author": sample.author,
            "document": sample.document,
            "origin": PreferencePair.Origin.SAMPLE,
            "sample": sample,
            "prompt": sample.instruction,
            "chosen": sample.answer,
            "rejected": f"A generic model answer to: {sample.instruction}",
            "rejected_model": "base",
            **fields,
        }
    )


def make_label(*, pair: PreferencePair, annotator, prefers: str = "chosen", **fields) -> PreferenceLabel:
    """A label that prefers `chosen`, `rejected`, or says tie / both_bad / skip, shown in a fixed order."""
    choice = {"chosen": "a", "rejected": "b"}.get(prefers, prefers)
    return PreferenceLabel.objects.create(
        **{"pair": pair, "annotator": annotator, "chosen_shown_first": True, "choice": choice, **fields}
    )

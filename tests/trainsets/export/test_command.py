"""export_dataset end to end: files TRL and `datasets` read, the Hub push and its refusal, clear errors."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.trainsets.models import DatasetVersion
from tests.factories import make_author, make_document, make_source
from tests.trainsets.factories import make_label, make_pair, make_sample

pytestmark = pytest.mark.django_db

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def export(*args: str) -> dict:
    out = StringIO()
    call_command("export_dataset", *args, "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def corpus(annotator) -> None:
    """Four documents of Ada's, each with an approved sample and a pair labeled as is."""
    ada = make_author(name="Ada Example")
    for _ in range(4):
        sample = make_sample(document=make_document(source=make_source(author=ada)), review="approved")
        make_label(pair=make_pair(sample=sample), annotator=annotator, prefers="chosen")


def tiny_chat_tokenizer():
    """A tokenizer whose only job is TRL's chat-template step (no model is involved)."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]")), eos_token="[UNK]"
    )
    tokenizer.chat_template = CHATML
    return tokenizer


def test_exports_load_in_the_formats_trl_and_datasets_take(datasets_dir, annotator, tmp_path):
    # TRL's conversational formats, checked through the step TRL runs on them (the tokenizer's chat
    # template), not through trl itself: importing trl pulls in torch, seconds this directory cannot spend.
    from datasets import load_dataset, load_from_disk

    corpus(annotator)
    tokenizer = tiny_chat_tokenizer()
    for kind in ("instruct", "preference"):
        result = export("--kind", kind, "--author", "ada example", "--test-fraction", "0.25")
        root = Path(result["path"])
        manifest = json.loads((root / "dataset.json").read_text())
        assert manifest["name"] == f"{kind}-v1" and manifest["author"] == "Ada Example"
        assert manifest["files"] == {"train": f"{kind}_train.jsonl", "test": f"{kind}_test.jsonl"}
        assert manifest["counts"] == result["counts"] and result["counts"]["train"] + result["counts"]["test"] == 4

        files = {side: str(root / name) for side, name in manifest["files"].items()}
        loaded = load_dataset("json", data_files=files, cache_dir=str(tmp_path / "hf-cache"))
        first = loaded["train"][0]
        if kind == "instruct":  # SFTTrainer: one "messages" conversation, templated whole
            assert [turn["role"] for turn in first["messages"]] == ["system", "user", "assistant"]
            text = tokenizer.apply_chat_template(first["messages"], tokenize=False)
            assert text.startswith("<|im_start|>system\nYou are the writing twin of Ada Example")
            assert text.endswith(f"<|im_start|>assistant\n{first['messages'][2]['content']}<|im_end|>\n")
        else:  # DPOTrainer: a prompt conversation, and one assistant turn each for chosen and rejected
            assert [turn["role"] for turn in first["prompt"]] == ["system", "user"]
            assert [turn["role"] for turn in first["chosen"] + first["rejected"]] == ["assistant", "assistant"]
            prompt = tokenizer.apply_chat_template(first["prompt"], tokenize=False, add_generation_prompt=True)
            assert prompt.endswith(f"{first['prompt'][1]['content']}<|im_end|>\n<|im_start|>assistant\n")
            assert first["chosen"][0]["content"].startswith("The author's passage number")

        copy = load_from_disk(str(root / manifest["hf_dir"]))
        assert {split: len(rows) for split, rows in copy.items()} == {"train": loaded["train"].num_rows, "test": 1}
        assert copy["train"][0] == loaded["train"][0]


def test_prints_the_version_its_path_and_counts(datasets_dir, annotator):
    corpus(annotator)
    out = StringIO()
    call_command("export_dataset", "--kind", "instruct", "--output", str(datasets_dir / "mine"), stdout=out)
    text = out.getvalue()
    assert f"Exported instruct-v1 to {datasets_dir.resolve() / 'mine'}" in text
    assert "train 3 samples from 3 documents; test 1 sample from 1 document" in text
    assert "left out: nothing" in text


def test_push_to_hub_is_refused_without_a_token(datasets_dir, annotator):
    corpus(annotator)
    with pytest.raises(CommandError, match="HF_TOKEN"):
        export("--kind", "instruct", "--push-to-hub", "ada/twin-data")
    assert not DatasetVersion.objects.exists()


def test_push_to_hub_sends_the_export_with_the_token(datasets_dir, annotator, settings, monkeypatch):
    corpus(annotator)
    settings.HF_TOKEN = "hf_secret_from_settings"
    calls = []
    monkeypatch.setattr(
        "datasets.DatasetDict.push_to_hub", lambda self, repo_id, **kw: calls.append((repo_id, kw, dict(self)))
    )
    result = export("--kind", "preference", "--push-to-hub", "ada/twin-preferences")
    ((repo, kwargs, splits),) = calls
    assert (repo, kwargs["token"], kwargs["private"]) == ("ada/twin-preferences", "hf_secret_from_settings", True)
    assert splits["train"].num_rows == result["counts"]["train"] and "chosen" in splits["train"].column_names
    assert result["hub_repo"] == "ada/twin-preferences"
    assert DatasetVersion.objects.get().hub_repo == "ada/twin-preferences"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "instruct", "--test-fraction", "1.5"], "test_fraction must lie strictly between 0 and 1"),
        (["--kind", "instruct", "--author", "Nobody"], "--author: no author is called 'Nobody'"),
        (["--kind", "preference"], "Nothing to export: no preference item is approved or labeled"),
        (["--kind", "instruct", "--push-to-hub", "not a repo"], None),
    ],
)
def test_bad_requests_get_a_clear_error_and_no_version(datasets_dir, settings, args, message):
    settings.HF_TOKEN = "hf_x"
    make_sample(review="approved")
    with pytest.raises(CommandError, match=message or "push_to_hub must be a Hub repository id like 'owner/name'"):
        export(*args)
    assert not DatasetVersion.objects.exists()

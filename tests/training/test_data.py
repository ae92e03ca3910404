"""Reading export directories in the contract format: TRL's columns only, and errors that say where."""

import json

import pytest

from tests.training.exports import instruct_rows, preference_rows, write_export
from training.data import DatasetError, export_dataset, export_rows


def test_instruct_export_keeps_only_the_messages(tmp_path):
    directory = write_export(tmp_path, "instruct", instruct_rows(0, 3), instruct_rows(3, 4), with_hf=False)

    train = export_dataset(dataset_dir=directory, kind="instruct")
    test = export_rows(dataset_dir=directory, kind="instruct", split="test")

    assert train.column_names == ["messages"] and len(train) == 3 and len(test) == 1
    assert [m["role"] for m in train[0]["messages"]] == ["system", "user", "assistant"]


def test_preference_export_keeps_prompt_chosen_rejected(tmp_path):
    directory = write_export(tmp_path, "preference", preference_rows(0, 2), [], with_hf=False)

    train = export_dataset(dataset_dir=directory, kind="preference")

    assert sorted(train.column_names) == ["chosen", "prompt", "rejected"]
    assert train[0]["chosen"][0]["role"] == "assistant"


def test_wrong_kind_is_refused(tmp_path):
    directory = write_export(tmp_path, "preference", preference_rows(0, 2), [], with_hf=False)

    with pytest.raises(DatasetError, match="is a preference export; this step needs a instruct export"):
        export_dataset(dataset_dir=directory, kind="instruct")


def test_broken_row_is_reported_with_its_line(tmp_path):
    directory = write_export(tmp_path, "instruct", instruct_rows(0, 2), [], with_hf=False)
    with (directory / "instruct_train.jsonl").open("a") as handle:
        handle.write(json.dumps({"messages": [{"role": "user", "content": "no answer"}]}) + "\n")

    with pytest.raises(DatasetError, match=r"instruct_train.jsonl, line 3: 'messages' must end with the assistant"):
        export_dataset(dataset_dir=directory, kind="instruct")


def test_empty_train_split_is_refused(tmp_path):
    directory = write_export(tmp_path, "instruct", [], instruct_rows(0, 1), with_hf=False)

    with pytest.raises(DatasetError, match="empty"):
        export_dataset(dataset_dir=directory, kind="instruct")

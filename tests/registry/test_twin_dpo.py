"""DPO of an author's twin: ``train --stage dpo --author`` trains the author's SFT adapter on, against that SFT
adapter as its reference, and registers the result as an adapter of the same author.

It starts from the session's SFT adapter of Ada (``adapters`` in conftest.py), with the DPO tests' quick
settings: two steps over four pairs.
"""

import math
import os
from io import StringIO

import pytest
from django.core.management import call_command

from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.trainsets.models import DatasetVersion
from lib.production_pointer import is_adapter_dir
from tests.factories import make_author
from tests.training.exports import preference_rows, write_export

pytestmark = pytest.mark.django_db


def test_an_authors_dpo_trains_their_sft_adapter_on_and_registers_an_adapter_of_theirs(
    models_dir, tmp_path, adapters, smollm2_dir
):
    from safetensors.torch import load_file

    ada = make_author(name="Ada")
    os.symlink(adapters["ada"], models_dir / "sft-v1")
    sft_run = TrainingRun.objects.create(stage="sft", author=ada, status=RunStatus.SUCCEEDED)  # as SFT leaves it
    sft = ModelVersion.objects.create(
        name="sft-v1", path=str(models_dir / "sft-v1"), author=ada, kind="adapter", training_run=sft_run
    )
    export = write_export(tmp_path, "preference", preference_rows(0, 4), preference_rows(10, 12))
    DatasetVersion.objects.create(kind="preference", number=1, path=str(export), author=ada)
    settings_file = tmp_path / "dpo.yaml"
    settings_file.write_text("learning_rate: 5.0e-4\nbatch_size: 2\nmax_length: 128\n")

    call_command(
        "train", "--stage", "dpo", "--author", "Ada", "--max-steps", "2", "--config", str(settings_file),
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip

    run = TrainingRun.objects.get(stage="dpo")
    assert run.status == RunStatus.SUCCEEDED, run.error
    dpo = run.model_version
    assert (dpo.name, dpo.author, dpo.kind, dpo.parent) == ("dpo-v1", ada, "adapter", sft)
    assert dpo.base_model == run.base_model == sft.path
    # Step 1 runs with the policy equal to its reference: exactly ln 2 only if the reference is the SFT adapter
    # (against the bare base, the SFT adapter's own preferences would already move the loss).
    assert run.loss_curve[0]["loss"] == pytest.approx(math.log(2), abs=1e-3) and len(run.loss_curve) == 2
    assert run.config["lora_r"] == 8  # the SFT adapter's rank, trained on, not a new adapter's
    assert is_adapter_dir(dpo.path)
    assert sorted(p.name for p in (models_dir / "dpo-v1").iterdir() if p.is_dir()) == []  # no reference copy kept
    config = (models_dir / "dpo-v1" / "adapter_config.json").read_text()
    assert f'"base_model_name_or_path": "{smollm2_dir}"' in config  # served on the one shared base
    trained, started = (load_file(d / "adapter_model.safetensors") for d in (models_dir / "dpo-v1", adapters["ada"]))
    assert sorted(trained) == sorted(started)
    assert sum(not trained[k].equal(started[k]) for k in trained) > 0

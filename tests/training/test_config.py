"""Training configs from defaults, YAML and flags, and the clear errors for bad ones (no model is loaded)."""

import dataclasses
from pathlib import Path

import pytest

from training.config import ConfigError, config_from_args, config_from_mapping, config_from_yaml
from training.dpo import ALIASES as DPO_ALIASES
from training.dpo import DpoConfig
from training.dpo import main as dpo_main
from training.sft import ALIASES, SftConfig


def sft_config(argv):
    return config_from_args(SftConfig, argv, description="sft", aliases=ALIASES)


def test_flags_override_yaml_which_overrides_defaults(tmp_path):
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("dataset_dir: data/instruct-v1\noutput_dir: out\nlora_r: 8\nlearning_rate: 1e-3\npacking: false\n")

    config = sft_config(["--config", str(cfg), "--lora-r", "4", "--gradient-checkpointing", "--base", "my/model"])

    assert config.dataset_dir == Path("data/instruct-v1") and config.output_dir == Path("out")
    assert (config.lora_r, config.learning_rate, config.packing) == (4, 1e-3, False)
    assert config.gradient_checkpointing is True and config.base_model == "my/model"
    assert config.lora_alpha == 32  # untouched default


def test_unknown_yaml_key_is_named(tmp_path):
    cfg = tmp_path / "sft.yaml"
    cfg.write_text("dataset_dir: d\noutput_dir: o\nlora_rank: 8\n")

    with pytest.raises(ConfigError, match="'lora_rank'"):
        sft_config(["--config", str(cfg)])


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [("--batch-size", "two", "batch_size"), ("--epochs", "x", "epochs"), ("--packing", "maybe", "packing")],
)
def test_wrong_type_is_named(flag, value, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        sft_config(["--dataset", "d", "--output", "o", flag, value])


def test_missing_required_setting_is_named():
    with pytest.raises(ConfigError, match="'model'"):
        config_from_args(DpoConfig, ["--dataset", "d", "--output", "o"], description="dpo", aliases=DPO_ALIASES)


def test_dpo_command_reports_a_bad_export_in_one_line(tmp_path, capsys):
    code = dpo_main(["--dataset", str(tmp_path), "--output", str(tmp_path / "o"), "--model", str(tmp_path)])

    assert code == 2
    assert "has no dataset.json" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "cls"), [("sft.yaml", SftConfig), ("dpo.yaml", DpoConfig)])
def test_example_configs_are_complete_and_valid(name, cls):
    values = config_from_yaml(Path(__file__).resolve().parents[2] / "training" / "configs" / name)

    config = config_from_mapping(cls, values)

    assert {f.name for f in dataclasses.fields(cls)} - {"model_cache_dir", "attn_implementation"} <= set(values)
    assert config.learning_rate > 0

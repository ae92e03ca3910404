import json
from pathlib import Path

import pytest

from apps.trainsets.models import DatasetVersion


@pytest.fixture
def datasets_dir(settings, tmp_path) -> Path:
    """DATASETS_DIR in this test's temporary directory; auto-accept off, no Hub token."""
    settings.DATASETS_DIR = tmp_path / "datasets"
    settings.TRAINSETS_AUTO_ACCEPT = False
    settings.HF_TOKEN = ""
    return settings.DATASETS_DIR


def read_split(version: DatasetVersion, side: str) -> list[dict]:
    path = Path(version.path) / version.files[side]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_both(version: DatasetVersion) -> list[dict]:
    return read_split(version, "train") + read_split(version, "test")

"""Saving a trained reranker as a new version directory and registering it for the rerank node.

Layout under ``MODEL_CACHE_DIR/reranker``: one ``v<UTC timestamp>`` directory per training run (the model
files and ``metadata.json``) and ``current``, a link to the registered one. A version is written in a
hidden staging directory and renamed into place, so ``current`` never points at a half-written model.
"""

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from apps.rag.reranking import registered_reranker_path, reranker_register

METADATA_FILE = "metadata.json"


def reranker_version_save(model, *, metadata: dict, register: bool = True, now: datetime | None = None) -> Path:
    """Save ``model`` (a CrossEncoder) with its metadata as a new version, register it if asked; its directory."""
    root = registered_reranker_path().parent
    root.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    staging = root / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    model.save_pretrained(str(staging))
    (staging / METADATA_FILE).write_text(
        json.dumps({"created_at": now.isoformat(), **metadata}, indent=2) + "\n", encoding="utf-8"
    )
    version = _unused_version_dir(root, now)
    os.rename(staging, version)
    if register:
        reranker_register(model_dir=version)
    return version


def _unused_version_dir(root: Path, now: datetime) -> Path:
    base = f"v{now.strftime('%Y%m%dT%H%M%SZ')}"
    version, n = root / base, 1
    while version.exists():  # two runs within a second
        n += 1
        version = root / f"{base}-{n}"
    return version


def reranker_version_metadata(version: Path) -> dict:
    return json.loads((version / METADATA_FILE).read_text(encoding="utf-8"))

"""The layer rules import-linter cannot state: no module reaches into another's private names, and
training/ runs without Django (lint-imports, run by `make test`, checks the import graph itself)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lib", "training", "apps", "workers", "twinsite")


def _owner(module: str) -> str:
    """The unit that owns a module: an app (apps.rag), or a top-level package (lib, training)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "apps" else parts[0]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def private_imports() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            importer = _module_name(path)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                    continue
                if _owner(node.module) == _owner(importer) or node.module.split(".")[0] not in PACKAGES:
                    continue
                names = [alias.name for alias in node.names]
                private = [n for n in names if n.startswith("_")]
                private += [part for part in node.module.split(".") if part.startswith("_") and part != "__init__"]
                found += [f"{importer}: from {node.module} import {name}" for name in private]
    return found


def test_no_module_imports_another_units_private_names():
    assert private_imports() == []


def test_training_runs_without_django():
    code = (
        "import sys, training.sft, training.dpo, training.evaluate, training.cli, training.base_model;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'apps', 'twinsite')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

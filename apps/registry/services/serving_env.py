"""The environment TGI and vLLM start with: the shared base model and each author's production adapter.

TGI reads MODEL_ID and LORA_ADAPTERS (``name=path,...``) at start; the vLLM profile passes
VLLM_LORA_MODULES to ``--lora-modules`` (``name=path ...``). Paths are as the servers see
MODELS_DIR (``mount``, /models in docker-compose), through each author's production pointer,
so the file stays right until the next promotion changes which authors have one.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from apps.registry.models import ModelVersion
from lib.errors import InvalidInput
from lib.production_pointer import adapter_name, pointer_name


@dataclass
class ServingEnv:
    model_id: str
    adapters: dict[str, str] = field(default_factory=dict)  # served name -> path as the server sees it
    skipped: list[str] = field(default_factory=list)  # why a production version is not in it

    def text(self) -> str:
        lines = [
            "# Written by manage.py serving_env from the registry's production versions; TGI and vLLM read it at start",
            f"MODEL_ID={self.model_id}",
            f"LORA_ADAPTERS={','.join(f'{name}={path}' for name, path in self.adapters.items())}",
            f"VLLM_LORA_MODULES={' '.join(f'{name}={path}' for name, path in self.adapters.items())}",
        ]
        return "\n".join(lines) + "\n"


def serving_env_build(*, mount: str = "/models", base: str | None = None) -> ServingEnv:
    """The base model and the authors' production adapters, as a server mounting MODELS_DIR at mount sees them.

    The base is the one the adapters were trained on (one for all: a server holds one base), else the
    all-authors production model. ``base`` overrides it (a hub id, or a path inside the server).
    """
    models_dir = Path(settings.MODELS_DIR).resolve()
    production = ModelVersion.objects.filter(stage=ModelVersion.Stage.PRODUCTION).select_related("author")
    env = ServingEnv(model_id=base or f"{mount}/{pointer_name(None)}")
    bases: dict[str, list[str]] = {}
    for version in production.exclude(author=None).order_by("author_id"):
        if version.kind != ModelVersion.Kind.ADAPTER:
            env.skipped.append(f"{version.name} ({version.author_label}) is a merged model, not an adapter")
            continue
        env.adapters[adapter_name(version.author_id)] = f"{mount}/{pointer_name(version.author_id)}"
        bases.setdefault(version.base_model, []).append(version.name)
    if len(bases) > 1:
        listed = "; ".join(f"{', '.join(names)} on {name or 'the packaged model'}" for name, names in bases.items())
        raise InvalidInput(f"A server holds one base model, and the production adapters have several: {listed}.")
    if bases and not base:
        env.model_id = _as_served(next(iter(bases)), models_dir=models_dir, mount=mount)
    return env


def _as_served(base: str, *, models_dir: Path, mount: str) -> str:
    path = Path(base)
    if not path.is_absolute():
        return base  # a hub id: the server reads it from its own cache
    try:
        return f"{mount}/{path.resolve().relative_to(models_dir)}"
    except ValueError:
        raise InvalidInput(
            f"The adapters' base model {base} is outside MODELS_DIR, where the server cannot see it: copy it "
            "under MODELS_DIR or give the path (or hub id) the server loads it from.",
            field="base",
        ) from None

"""Write the env file TGI and vLLM start with: MODEL_ID, LORA_ADAPTERS and VLLM_LORA_MODULES from the registry."""

from pathlib import Path

from django.core.management.base import BaseCommand

from apps.core.management.errors import command_error
from apps.registry.services.serving_env import serving_env_build
from lib.errors import TwinsiteError


class Command(BaseCommand):
    help = (
        "Print (or write to --output) the environment of docker-compose's tgi and vllm profiles: the base model and "
        "each author's production LoRA adapter. Run it after a promotion, then restart the server."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", help="Write the file here (e.g. serving.env beside docker-compose.yml).")
        parser.add_argument("--mount", default="/models", help="Where the server mounts MODELS_DIR (default /models).")
        parser.add_argument("--base", help="The base model as the server loads it (a hub id or a path inside it).")

    def handle(self, *args, **options) -> None:
        try:
            env = serving_env_build(mount=options["mount"].rstrip("/"), base=options["base"])
        except TwinsiteError as exc:
            raise command_error(exc, flags=["base"]) from None
        for reason in env.skipped:
            self.stderr.write(f"Not served by TGI or vLLM: {reason}.")
        if options["output"]:
            Path(options["output"]).write_text(env.text(), encoding="utf-8")
            self.stderr.write(f"Wrote {options['output']}: {len(env.adapters)} adapter(s) on {env.model_id}.")
        else:
            self.stdout.write(env.text(), ending="")

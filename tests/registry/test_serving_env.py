"""manage.py serving_env: the environment TGI and vLLM start with, from the registry's production versions."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import make_author

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_author(name="Ada"), make_author(name="Bob")


def test_serving_env_lists_each_authors_production_adapter_on_their_shared_base(make_version, models_dir, people):
    ada, bob = people
    cyd = make_author(name="Cyd")
    base = str(models_dir / "cache" / "smollm2-135m-instruct")
    make_version("sft-v1", author=ada, kind="adapter", base_model=base, stage="production")
    make_version("sft-v2", author=bob, kind="adapter", base_model=base, stage="production")
    make_version("sft-v3", author=cyd, kind="merged", base_model=base, stage="production")
    make_version("sft-v4", author=ada, kind="adapter", base_model=base)  # a candidate: not served
    out, err = StringIO(), StringIO()

    call_command("serving_env", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    adapters = [
        f"author-{ada.pk}=/models/production-author-{ada.pk}",
        f"author-{bob.pk}=/models/production-author-{bob.pk}",
    ]
    assert lines[1:] == [
        "MODEL_ID=/models/cache/smollm2-135m-instruct",
        f"LORA_ADAPTERS={','.join(adapters)}",
        f"VLLM_LORA_MODULES={' '.join(adapters)}",
    ]
    assert err.getvalue() == "Not served by TGI or vLLM: sft-v3 (Cyd) is a merged model, not an adapter.\n"


def test_serving_env_without_adapters_serves_all_authors_production(make_version, models_dir, tmp_path):
    target = tmp_path / "serving.env"

    call_command("serving_env", "--output", str(target), stderr=StringIO())

    assert target.read_text().splitlines()[1:] == [
        "MODEL_ID=/models/production",
        "LORA_ADAPTERS=",
        "VLLM_LORA_MODULES=",
    ]


def test_serving_env_refuses_adapters_on_a_base_the_server_cannot_see(make_version, models_dir, people):
    make_version("sft-v1", author=people[0], kind="adapter", base_model="/elsewhere/base", stage="production")

    with pytest.raises(Exception, match="--base: The adapters' base model /elsewhere/base is outside MODELS_DIR"):
        call_command("serving_env", stdout=StringIO())
    out = StringIO()
    call_command("serving_env", "--base", "HuggingFaceTB/SmolLM2-135M-Instruct", stdout=out)
    assert "MODEL_ID=HuggingFaceTB/SmolLM2-135M-Instruct\n" in out.getvalue()

"""The production compose file: the expected services, each with a healthcheck, and no secret inline."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.IGNORECASE)


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_database_broker_and_the_three_processes():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    assert "celery" in services["worker"]["command"] and "worker" in services["worker"]["command"]
    assert "DatabaseScheduler" in " ".join(services["beat"]["command"])


def test_every_long_running_service_has_a_healthcheck():
    services = _compose()["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_no_secret_is_written_inline():
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        for key, value in env.items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{name}.{key} is written inline"
            # URLs carrying credentials take them from variables too.
            literal = re.sub(r"\$\{[^}]*\}", "VAR", str(value))
            for password in re.findall(r"://[^:/@]*:([^@/]+)@", literal):
                assert password == "VAR", f"{name}.{key} has an inline password"
    assert (ROOT / ".env.example").exists()
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line[0] != "#"
    )
    assert all(example[key] == "" for key in example if SECRET_NAME.search(key) or key == "SECRET_KEY")


def test_the_webui_profile_points_open_webui_at_the_twins_v1_with_the_key_from_an_env_file():
    webui = _compose()["services"]["webui"]
    assert webui["profiles"] == ["webui"] and webui["image"].startswith("ghcr.io/open-webui/open-webui:")
    assert webui["environment"]["OPENAI_API_BASE_URL"] == "${WEBUI_TWIN_URL:-http://web:8000/v1}"
    assert webui["env_file"] == [{"path": "webui.env", "required": False}]
    assert "OPENAI_API_KEY" not in webui["environment"]  # the key is never written in the compose file
    example = (ROOT / "webui.env.example").read_text()
    assert "\nOPENAI_API_KEY=\n" in example and "\nWEBUI_SECRET_KEY=\n" in example
    assert "webui.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_tgi_and_vllm_profiles_serve_the_authors_adapters_from_serving_env_with_optional_quantization():
    services = _compose()["services"]
    tgi, vllm = services["tgi"], services["vllm"]
    assert tgi["profiles"] == ["tgi"] and vllm["profiles"] == ["vllm"]
    for server in (tgi, vllm):
        assert server["env_file"] == [{"path": "serving.env", "required": False}]  # manage.py serving_env
        assert "models:/models:ro" in server["volumes"]
        assert '"$${MODEL_ID:-/models/production}"' in server["command"][0]
    assert "$${TGI_QUANTIZE:+--quantize $$TGI_QUANTIZE}" in tgi["command"][0]
    assert tgi["environment"]["TGI_QUANTIZE"] == "${TGI_QUANTIZE:-}"
    assert "--enable-lora" in vllm["command"][0]
    assert "$${VLLM_LORA_MODULES:+--lora-modules $$VLLM_LORA_MODULES}" in vllm["command"][0]
    assert "$${VLLM_QUANTIZATION:+--quantization $$VLLM_QUANTIZATION}" in vllm["command"][0]
    # The packaged base model is converted where the servers can load it.
    assert services["web"]["environment"]["MODEL_CACHE_DIR"].startswith("/models/")
    assert "serving.env" in (ROOT / ".gitignore").read_text().splitlines()

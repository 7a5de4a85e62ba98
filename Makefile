# Homestretch: `make run` serves the demo clinic, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres lint format audit bench lighthouse screenshots figures translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app content load
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/flask --app app seed-demo --if-empty
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/flask --app app run --host $(HOST) --port $(PORT)

# The independent FHIR R4 validator of the export tests (Node; skipped without npm on a laptop).
FHIR_VALIDATOR := tools/fhir-validator/node_modules/.package-lock.json
$(FHIR_VALIDATOR): tools/fhir-validator/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/fhir-validator --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the FHIR validator tests will be skipped"; fi

test: $(VENV)/.test-deps $(FHIR_VALIDATOR)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The data layer again on PostgreSQL (browser tests run once, in the SQLite run).
test-postgres: $(VENV)/.test-deps $(FHIR_VALIDATOR)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest -m "not browser"

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Supply chain: bandit on app/ and pip-audit on the pinned dependencies (tools/audit.py).
audit: $(VENV)/.test-deps
	$(BIN)/python tools/audit.py

# The message catalogues (issue 16): extract the marked words, update es/messages.po (translate
# its new entries), then compile the committed .mo and the scripts' words (tools/translations.py).
translations: $(VENV)/.run-deps
	$(BIN)/python tools/translations.py extract
	$(BIN)/python tools/translations.py compile

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis

screenshots: $(VENV)/.test-deps
	$(BIN)/python docs/screenshots.py

# The contact sheet of every exercise figure (docs/figures.png), drawn in the system Chromium.
figures: $(VENV)/.test-deps
	$(BIN)/python docs/figures.py

# Benchmarks (not part of the test suite); results go to bench/RESULTS.md.
bench: $(VENV)/.test-deps
	$(BIN)/python bench/caseload.py
	$(BIN)/python bench/patient_page.py
	$(BIN)/python bench/patient_weight.py
	$(BIN)/python bench/sweep.py

# Lighthouse (mobile) on the patient pages; needs Node.js and npm (not part of `make test`).
lighthouse: $(VENV)/.test-deps
	$(BIN)/python bench/lighthouse.py

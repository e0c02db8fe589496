# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install lint lock

# Installs exactly what requirements/dev.lock pins, each file checked against its hash
# (the lock is made by `make lock` with uv; docs/security.md says why), then the project
# itself without touching the network for build tools.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

## lock: re-resolve pyproject.toml's ranges into the hashed lock files (commit both)
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --no-header -q
lock: install
	$(BIN)/uv pip compile pyproject.toml requirements/build.in $(LOCK_FLAGS) -o requirements/main.lock
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra dev $(LOCK_FLAGS) -o requirements/dev.lock

## run: web + worker + beat + offline Stripe + mail sink on the embedded default
run: install
	mkdir -p var/mail
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "web:        http://127.0.0.1:5000  (/readyz, /api/openapi.json)"
	@echo "stripe_sim: http://127.0.0.1:12111 (offline Stripe; hosted Checkout and portal pages)"
	@echo "mail sink:  smtp://127.0.0.1:8025 -> var/mail/*.eml"
	$(BIN)/honcho start -f Procfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## test: lint, types, import layers (docs/architecture.md), and the whole suite on PostgreSQL, Redis and SQLite
test: lint
	$(BIN)/python -m pytest

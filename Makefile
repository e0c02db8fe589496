# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

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

## test: lint, types, and the whole suite on PostgreSQL, Redis and SQLite
test: lint
	$(BIN)/python -m pytest

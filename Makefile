# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install lint lock browser translations

# Installs exactly what requirements/dev.lock pins, each file checked against its hash
# (the lock is made by `make lock` with uv; docs/security.md says why), then the project
# itself without touching the network for build tools.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

# Browser tests (tests/browser) drive Debian's Chromium through Playwright for Python
# (Playwright's own browser download cannot work here) and check pages with axe-core,
# installed from npm at the version package-lock.json pins.
CHROMIUM ?= /usr/bin/chromium
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

browser: node_modules/.installed
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
	  || { echo "could not install chromium (need root and Debian's package mirror)"; exit 1; }; }

## lock: re-resolve pyproject.toml's ranges into the hashed lock files (commit both)
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --no-header -q
lock: install
	$(BIN)/uv pip compile pyproject.toml requirements/build.in $(LOCK_FLAGS) -o requirements/main.lock
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra dev $(LOCK_FLAGS) -o requirements/dev.lock

## translations: add new source strings to each package's catalogs (then translate them:
## tests/i18n checks that every string has a real translation in every language)
TRANSLATED := readers mail
translations: install
	@mkdir -p var
	@for pkg in $(TRANSLATED); do \
	  $(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -o var/$$pkg.pot membership/$$pkg; \
	  for lang in $$(ls membership/$$pkg/translations); do \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i var/$$pkg.pot -l $$lang -d membership/$$pkg/translations; \
	  done; \
	done

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
test: lint browser
	$(BIN)/python -m pytest

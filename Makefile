# Salon: `make run` serves the demo, `make test` runs every test. Both set up .venv on their own.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
THREADS ?= 8

# axe-core (accessibility checks of the browser journeys) comes from the npm registry at test time into a
# git-ignored folder; without npm the checks are skipped, saying so (CI requires them).
AXE_CORE := axe-core@4.14.1
AXE_DIR := .cache/axe

# @noble/curves (audited secp256k1 for the sealed ballots, SPEC §5.1) and its one dependency @noble/hashes come
# from the npm registry, pinned, with their MIT licence files, into a git-ignored folder under the static files:
# the pages serve it themselves, nothing from a CDN (SPEC §8). Without npm the vote page cannot seal in the
# browser and the server seals on arrival instead (SPEC §5.1).
NOBLE_CURVES := @noble/curves@2.4.0
VENDOR_DIR := salon/static/vendor

.PHONY: run test lint-imports test-clock test-clock-year-ahead test-clock-leap-day test-clock-year-end venv axe vendor i18n bench release-fixture clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: venv vendor
	$(BIN)/salon migrate
	$(BIN)/salon demo --if-empty
	@echo
	@echo "Salon is serving on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo
	$(BIN)/waitress-serve --listen=$(HOST):$(PORT) --threads=$(THREADS) --call salon:create_app

# Every layer on both databases, the browser journeys with them, spread over the machine's cores (pytest-xdist;
# TEST_JOBS=0 runs in one process), then the clock layers.
TEST_JOBS ?= auto
XDIST = -n $(TEST_JOBS)

test: venv axe vendor lint-imports
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-clock

# The architecture's contracts (.importlinter, docs/architecture.md): no import cycle in salon/ or bench/, the
# layers. Our own contract types are in tools/contracts/, hence the repository root on PYTHONPATH.
lint-imports: venv
	PYTHONPATH=$(CURDIR) $(BIN)/lint-imports --no-cache

# The suite must not depend on the day it runs (issue 18): the non-browser layers again with Python's clock moved
# (SALON_TEST_CLOCK, tests/conftest.py): a year ahead on PostgreSQL (production's database), then a leap day and
# the last minute of a year in Shanghai on SQLite (the embedded default), so that each database runs with a moved
# clock. Every moment the product compares comes from Python (salon/clock.py; no SQL reads the database's clock), so
# the databases cannot differ on a date. Without PostgreSQL the year-ahead run falls back to SQLite. Left out: the
# tests that serve Salon from other processes (the two-server test, PostgreSQL restarted, Redis gone), whose clock
# does not move. docs/time-in-tests.md says more.
CLOCK_LAYERS := tests/unit tests/services tests/web --deselect tests/web/test_cluster.py \
	--deselect tests/web/test_database_restart.py --deselect tests/web/test_rate_limit_storage.py
test-clock: venv test-clock-year-ahead test-clock-leap-day test-clock-year-end

test-clock-year-ahead: venv
	SALON_TEST_CLOCK=+365d SALON_TEST_POSTGRES_ONLY=1 $(BIN)/python -m pytest $(XDIST) $(CLOCK_LAYERS) $(PYTEST_ARGS)

test-clock-leap-day: venv
	SALON_TEST_CLOCK=2028-02-29T10:00:00+08:00 SALON_TEST_SQLITE_ONLY=1 $(BIN)/python -m pytest $(XDIST) $(CLOCK_LAYERS) $(PYTEST_ARGS)

test-clock-year-end: venv
	SALON_TEST_CLOCK=2027-12-31T23:59:00+08:00 SALON_TEST_SQLITE_ONLY=1 $(BIN)/python -m pytest $(XDIST) $(CLOCK_LAYERS) $(PYTEST_ARGS)

axe:
	@if [ -f $(AXE_DIR)/node_modules/axe-core/axe.min.js ] && grep -q '"version": "$(AXE_CORE:axe-core@%=%)"' $(AXE_DIR)/node_modules/axe-core/package.json; then :; \
	elif command -v npm >/dev/null; then npm install --prefix $(AXE_DIR) --no-audit --no-fund --no-save --loglevel=error $(AXE_CORE); \
	else echo "make: npm not found: the accessibility checks (axe-core) will be skipped"; fi

vendor:
	@if [ -f $(VENDOR_DIR)/node_modules/@noble/curves/LICENSE ] && grep -q '"version": "$(NOBLE_CURVES:@noble/curves@%=%)"' $(VENDOR_DIR)/node_modules/@noble/curves/package.json; then :; \
	elif command -v npm >/dev/null; then npm install --prefix $(VENDOR_DIR) --no-audit --no-fund --no-save --no-package-lock --loglevel=error $(NOBLE_CURVES); \
	else echo "make: npm not found: the browser cannot seal ballots (the server seals them on arrival)"; fi

# Re-extract the strings and merge them into the catalogues; then translate and `make i18n-compile`.
i18n: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o salon/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i salon/translations/messages.pot -d salon/translations --no-fuzzy-matching --ignore-obsolete

i18n-compile: venv
	$(BIN)/pybabel compile -d salon/translations --statistics

bench: venv vendor
	$(BIN)/python bench/ballots.py --no-sealed-figures
	$(BIN)/python bench/sealed.py
	$(BIN)/python bench/sealed_close.py

# When a release is cut: the upgrade test's database of this release (docs/upgrades.md). Needs PostgreSQL.
release-fixture: venv
	$(BIN)/python tools/release_fixture.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts .cache $(VENDOR_DIR)

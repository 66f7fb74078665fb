# Waymark: `make run` serves the app with demo data, `make test` runs the whole suite.
# Both install whatever is missing first, so a fresh clone needs nothing else.

PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export FLASK_APP := learning

.PHONY: run test lint check bench system-deps clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else echo "Could not create a virtual environment: install python3-venv (Debian) and retry."; exit 1; fi; }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

run: $(STAMP) system-deps
	FLASK_DEBUG=1 $(BIN)/flask db upgrade
	FLASK_DEBUG=1 $(BIN)/flask content sync
	FLASK_DEBUG=1 $(BIN)/flask demo
	@echo "Waymark is at http://127.0.0.1:$(PORT)/ (stop with Ctrl-C)"
	FLASK_DEBUG=1 $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Debian packages: Chromium for the browser tests, PostgreSQL for the second database run,
# DejaVu fonts for certificate PDFs, poppler and zbar to read PDFs and QR codes back in tests.
# Installed only when missing and only when we are root.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Missing Debian packages:$$missing (run 'make test' as root, or install them)"; fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	FLASK_DEBUG=1 $(BIN)/flask content check --strict
	$(BIN)/pytest -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .

check: $(STAMP)
	FLASK_DEBUG=1 $(BIN)/flask content check --strict

bench: $(STAMP)
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) .pytest_cache

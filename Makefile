# Waymark: `make run` serves the app with demo data, `make test` runs the whole suite.
# Both install whatever is missing first, so a fresh clone needs nothing else.

PYTHON ?= python3
PORT ?= 5000
# pytest-xdist processes for make test (0: run in this one process)
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export FLASK_APP := learning

.PHONY: run dev prepare test lint check translations translations-update bench bench-deps scale-test \
	run-deps system-deps clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else echo "Could not create a virtual environment: install python3-venv (Debian) and retry."; exit 1; fi; }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# The preparatory commands run in debug mode (it creates instance/secret_key); the server
# itself is gunicorn without debug, so the Werkzeug debugger is never reachable.
# WAYMARK_REQUIRE_MFA=0 exempts the demo accounts from the second factor.
prepare: $(STAMP) run-deps translations
	FLASK_DEBUG=1 $(BIN)/flask db upgrade
	FLASK_DEBUG=1 $(BIN)/flask content sync --skip-newer
	FLASK_DEBUG=1 $(BIN)/flask demo

# Beside the server, a sender delivers queued messages (password links, invitations,
# reminders) every 15 s: as files in instance/mail/, or by mail when WAYMARK_SMTP_HOST is set.
run: prepare
	@echo "Waymark is at http://127.0.0.1:$(PORT)/ (stop with Ctrl-C); e-mail goes to instance/mail/"
	env -u FLASK_DEBUG WAYMARK_BASE_URL=http://127.0.0.1:$(PORT) WAYMARK_REQUIRE_MFA=0 \
	  WAYMARK_MAIL_DIR=$${WAYMARK_MAIL_DIR:-$(CURDIR)/instance/mail} sh -c '\
	  $(BIN)/flask notify send --every 15 & sender=$$!; \
	  trap "kill $$sender 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/gunicorn -c gunicorn.conf.py -b 127.0.0.1:$(PORT) "learning:create_app()"'

# Local development only: Flask's server with the reloader and the interactive debugger,
# which runs any code typed into an error page. Never expose it beyond this machine.
dev: prepare
	FLASK_DEBUG=1 WAYMARK_REQUIRE_MFA=0 $(BIN)/flask run --debug --host 127.0.0.1 --port $(PORT)

# Debian packages, installed only when missing and only when we are root:
# DejaVu fonts for certificate PDFs (make run and make test); for the suite also Chromium
# (browser tests), PostgreSQL (the second database run), poppler and zbar (to read
# PDFs and QR codes back), Redis (shared throttles), nginx (the deployment layout) and
# systemd-analyze (the deployment's timer calendars).
RUN_PACKAGES := fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
  fonts-droid-fallback:/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
TEST_PACKAGES := $(RUN_PACKAGES) chromium:/usr/bin/chromium \
	postgresql:/usr/lib/postgresql/15/bin/initdb poppler-utils:/usr/bin/pdftoppm \
	zbar-tools:/usr/bin/zbarimg redis-server:/usr/bin/redis-server nginx-light:/usr/sbin/nginx \
	systemd:/usr/bin/systemd-analyze

define install_missing
	@missing=""; for pair in $(1); do \
	  package=$${pair%%:*}; file=$${pair#*:}; \
	  if [ "$$package" = postgresql ]; then ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && continue; fi; \
	  [ -e "$$file" ] || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Missing Debian packages:$$missing (run as root, or install them)"; fi; \
	fi
endef

run-deps:
	$(call install_missing,$(RUN_PACKAGES))

system-deps:
	$(call install_missing,$(TEST_PACKAGES))

test: $(STAMP) system-deps translations
	$(BIN)/ruff check .
	FLASK_DEBUG=1 $(BIN)/flask languages check
	FLASK_DEBUG=1 $(BIN)/flask content check --strict
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --durations=15

# Interface translations: compile the shipped catalogues (translations/<lang>/LC_MESSAGES);
# translations-update pulls new messages from the code into every catalogue for translators.
translations: $(STAMP)
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel -q compile -d translations; fi

translations-update: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	@for po in translations/*/LC_MESSAGES/messages.po; do [ -f "$$po" ] && \
	  $(BIN)/pybabel -q update -N -i translations/messages.pot -d translations \
	    -l "$$(basename $$(dirname $$(dirname $$po)))"; done; true

lint: $(STAMP)
	$(BIN)/ruff check .

check: $(STAMP)
	FLASK_DEBUG=1 $(BIN)/flask content check --strict

# The benches drive the servers with wrk; bench/instructions.py counts with valgrind.
BENCH_PACKAGES := wrk:/usr/bin/wrk valgrind:/usr/bin/valgrind

bench-deps:
	$(call install_missing,$(BENCH_PACKAGES))

bench: $(STAMP) bench-deps
	$(BIN)/python bench/pages.py

# PostgreSQL, Redis, three app servers behind nginx and a job worker on loopback, 500
# simulated officers, faults on the way; the last line says what was lost (must be 0).
scale-test: $(STAMP) system-deps
	@$(BIN)/python -c "import locust" 2>/dev/null || $(BIN)/python -m pip install -q -e '.[dev,scale]'
	$(BIN)/python scale/run.py

clean:
	rm -rf $(VENV) .pytest_cache

# Meridian's everyday commands. `make run` and `make test` need nothing but Python 3.11+ (and, for
# `make test`, PostgreSQL and Redis); each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamp files: pip runs again only when a requirements file is newer than its stamp.
RUN_STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp
# The folders of kombu's filesystem transport, the broker used when REDIS_URL is unset.
CELERY_DIRS := var/celery/queue var/celery/processed
ARGS ?=
# axe-core for the browser tests' accessibility checks (pinned in package-lock.json); npm runs again only
# when the lock file changes. Without npm those checks are skipped with a message saying how to install it.
AXE_STAMP := node_modules/.package-lock.json

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt clean

help:
	@echo "make run    start Meridian on http://127.0.0.1:8000 with the demo clinic (web, worker, beat)"
	@echo "make test   run the whole test suite against PostgreSQL and Redis (extra args: ARGS=\"-k engine\")"
	@echo "make lint   ruff check and ruff format --check"
	@echo "make fmt    fix what ruff can fix, then format"
	@echo "make .env   write .env for docker compose from .env.example, with a fresh SECRET_KEY and intake key"
	@echo "make clean  remove .venv, var/ and the SQLite database"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Meridian needs Python 3.11 or newer; '$(PYTHON)' is older. Try: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) \
		|| { echo "Could not create $(VENV). On Debian or Ubuntu: sudo apt-get install python3-venv" >&2; exit 1; }

$(RUN_STAMP): requirements.txt | $(BIN)/python
	@echo "Installing requirements.txt into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(BIN)/python
	@echo "Installing requirements-dev.txt into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(RUN_STAMP)

# `make run`: development defaults (DEBUG on, SQLite, the filesystem broker) unless the caller's
# environment says otherwise; DATABASE_URL and REDIS_URL are passed through untouched when set.
run: export DEBUG ?= 1
run: export PATH := $(CURDIR)/$(BIN):$(PATH)
run: $(RUN_STAMP)
	@mkdir -p $(CELERY_DIRS)
	python manage.py migrate --noinput
	python manage.py createcachetable
	python manage.py load_demo
	@echo
	@echo "Meridian is starting on http://127.0.0.1:8000/ (front desk: /desk/, admin: /admin/, API docs: /api/docs/)."
	@echo "Demo staff logins are listed above."
	@if [ -n "$$REDIS_URL" ]; then echo "Celery broker: Redis (REDIS_URL)."; \
		else echo "Celery broker: files in var/celery/ (set REDIS_URL to use Redis)."; fi
	@echo "Ctrl-C stops the web server, the worker and beat."
	@echo
	honcho --procfile Procfile.dev start

# `make test`: the suite runs as production does (DEBUG off) against real PostgreSQL and Redis.
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: export SECRET_KEY ?= meridian-test-only-key
test: export ALLOWED_HOSTS ?= testserver,localhost,127.0.0.1
test: export EMAIL_URL ?= memorymail://
test: export SITE_URL ?= http://testserver
test: export DEFAULT_FROM_EMAIL ?= Meridian Acupuncture <bookings@example.org>
test: export INTAKE_ENCRYPTION_KEYS ?= McdXYdQapUpH46iMfNFkv9dBGBsUUeKa8_RmnkZfIzw=
test: export DEBUG := 0
test: $(DEV_STAMP) $(AXE_STAMP)
	$(BIN)/pytest $(ARGS)

$(AXE_STAMP): package-lock.json
	@if command -v npm >/dev/null; then echo "Installing axe-core (npm ci) ..."; npm ci --no-audit --no-fund --loglevel=error; \
		else echo "npm not found: the accessibility checks will be skipped (install Node.js and npm)." >&2; fi

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The env file docker compose reads. Never overwritten: delete it first to start again.
# A Fernet key is 32 random bytes in url-safe base64, as Fernet.generate_key() makes it: python3 alone will do.
.env: | .env.example
	@sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')|" \
		-e "s|^INTAKE_ENCRYPTION_KEYS=.*|INTAKE_ENCRYPTION_KEYS=$$($(PYTHON) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')|" \
		.env.example > $@
	@echo "Wrote .env with a fresh SECRET_KEY and INTAKE_ENCRYPTION_KEYS; review it, then: docker compose up"
	@echo "Keep a copy of INTAKE_ENCRYPTION_KEYS apart from the database: without it, no intake can be read."

clean:
	rm -rf $(VENV) var db.sqlite3 node_modules

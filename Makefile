# Two commands on a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test install migrate seed messages check-deploy daily clean screenshots api-schema fuzz-api

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# The web server and, beside it, one worker for the background work (e-mails,
# the daily job's shards, admin jobs, webhook deliveries) and the demo's
# webhook receiver on 127.0.0.1:8025 (the admin's delivery log shows what it
# got); all stop with Ctrl+C.
run: seed
	$(PY) manage.py db_worker --no-reload --interval 0.5 & worker=$$!; \
	$(PY) manage.py webhook_receiver --port 8025 & receiver=$$!; \
	trap 'kill $$worker $$receiver 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Full-page PNGs of every admin and portal page, every demo account, 1280 and
# 390 px, zh-hans and en, into test-artifacts/screenshots/ (needs Debian's chromium).
screenshots: install
	$(PY) tools/screenshots.py $(SCREENSHOT_ARGS)

# Rebuild the zh_Hans catalogue from the source, then compile it.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-location --no-obsolete --no-wrap --ignore=.venv --ignore=tests
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# The integration API's OpenAPI schema, checked in: a test fails when the API
# and this file disagree (tests/compliance/test_api.py).
# It lists the catalogue's rule, tier and certificate-type codes as enums: it is
# generated from a fresh database holding the shipped catalogue only.
api-schema: install
	rm -f /tmp/compliance-api-schema.sqlite3
	DATABASE_URL=sqlite:////tmp/compliance-api-schema.sqlite3 $(PY) manage.py migrate --noinput >/dev/null
	DATABASE_URL=sqlite:////tmp/compliance-api-schema.sqlite3 $(PY) manage.py spectacular --validate --fail-on-warn \
	  --lang en --file tests/openapi/v1.yaml
	rm -f /tmp/compliance-api-schema.sqlite3

# The schema-driven fuzzer against the served API (schemathesis.toml), on a
# throw-away seeded SQLite database; CI runs it on PostgreSQL (.ci/run).
fuzz-api: install
	rm -f /tmp/compliance-fuzz.sqlite3
	DATABASE_URL=sqlite:////tmp/compliance-fuzz.sqlite3 $(PY) tools/fuzz_api.py $(FUZZ_ARGS)

check-deploy: install
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=ci-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=') \
	DJANGO_ALLOWED_HOSTS=compliance.example.com \
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

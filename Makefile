# ticketdesk: `make run` serves the API, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/ticketdesk_test
PYTEST_ARGS ?=
# Test processes per database half (pytest-xdist); 0 runs the suite in this process.
TEST_WORKERS ?= 2

.PHONY: install run migrate revision test lint test-sqlite test-postgresql clean bench-stats bench-attachments bench bench-1m bench-mail bench-features
.PHONY: bench-logins
.PHONY: bench-lifecycle
.PHONY: bench-webhooks
.PHONY: bench-events
.PHONY: screenshots
.PHONY: bench-web

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "ticketdesk needs Python 3.11 or newer (set PYTHON=...)"; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Front-end libraries (htmx, its SSE extension, Swagger UI and Redoc for the API docs, axe-core
# for the browser tests), exactly as package-lock.json pins them; the pages serve them from
# node_modules.
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# `make run` keeps its data in ./data (the installed command defaults to ~/.local/share/ticketdesk).
run: install
	TICKETDESK_DATA_DIR="$${TICKETDESK_DATA_DIR:-$(CURDIR)/data}" $(BIN)/ticketdesk serve

migrate: install
	TICKETDESK_DATA_DIR="$${TICKETDESK_DATA_DIR:-$(CURDIR)/data}" $(BIN)/ticketdesk migrate

# Draft the next migration from the models: `make revision MSG="what changes"`, then read it.
revision: install
	@test -n "$(MSG)" || (echo 'usage: make revision MSG="what changes"'; exit 1)
	$(BIN)/alembic -c alembic.ini revision --autogenerate -m "$(MSG)"

test: install lint test-sqlite test-postgresql

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

test-sqlite: install
	@echo "== test suite on SQLite =="
	TICKETDESK_TEST_DB=sqlite $(BIN)/pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Without a reachable PostgreSQL the half is skipped with a clear message, except under CI.
test-postgresql: install
	@if $(BIN)/python -m tests.postgres_probe "$(TEST_POSTGRES_URL)"; then \
		echo "== test suite on PostgreSQL =="; \
		TICKETDESK_TEST_DB=postgresql TICKETDESK_TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" \
			$(BIN)/pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL is not reachable at $(TEST_POSTGRES_URL): failing, as CI must test both databases."; \
		exit 1; \
	else \
		echo "*** PostgreSQL is not reachable at $(TEST_POSTGRES_URL): the PostgreSQL half of the suite was SKIPPED. ***"; \
	fi

# The README's screenshots, taken by the browser tests into docs/screenshots.
screenshots: install
	TICKETDESK_SCREENSHOTS="$(CURDIR)/docs/screenshots" TICKETDESK_TEST_DB=sqlite \
		$(BIN)/pytest -q tests/web/test_browser.py tests/web/test_admin_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (PostgreSQL on 127.0.0.1:5432): figures, not tests. See the README's performance section.
bench-stats: install
	$(BIN)/python -m bench.stats_bench --tickets 1000000

bench-attachments: install
	$(BIN)/python -m bench.attachments_bench
bench-lifecycle: install
	$(BIN)/python -m bench.lifecycle_bench --tickets 1000000

LOAD_SIZES ?= 10000,100000
bench: install
	$(BIN)/python -m bench.load --sizes $(LOAD_SIZES) --seconds 20 --concurrency 16 --workers 2
	$(MAKE) bench-events
	$(MAKE) bench-webhooks

# Create and comment throughput with and without event rows, alternating, in one run.
bench-events: install
	$(BIN)/python -m bench.events_bench --rounds 3

# 3 webhooks subscribed to everything, under create/comment load: the delivery backlog's drain.
bench-webhooks: install
	$(BIN)/python -m bench.webhooks_bench --seconds 20 --concurrency 16

bench-logins: install
	$(BIN)/python -m bench.login_bench --seconds 10

# The desk's pages at 1,000,000 tickets, the live-update delay, JavaScript per page.
bench-web: install
	$(BIN)/python -m bench.web_bench --tickets 1000000

bench-1m: install
	$(BIN)/python -m bench.load --sizes 1000000 --seconds 20 --concurrency 16 --workers 2

# Mail: 1,000 notifications to a local SMTP server, 1,000 received mails processed.
bench-mail: install
	$(BIN)/python -m bench.mail_bench
# Auto-assignment cost on create and cf. filter latency at 1,000,000 tickets.
bench-features: install
	$(BIN)/python -m bench.features_bench --tickets 1000000
# Search on 1,000,000 tickets and 3,000,000 comments: seeded once into ticketdesk_search_bench
# (kept between runs; SEARCH_BENCH_ARGS=--seed seeds again).
SEARCH_BENCH_ARGS ?=
.PHONY: bench-search
bench-search: install
	$(BIN)/python -m bench.search_bench $(SEARCH_BENCH_ARGS)

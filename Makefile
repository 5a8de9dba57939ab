# ticketdesk: `make run` serves the API, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/ticketdesk_test
PYTEST_ARGS ?=

.PHONY: install run migrate revision test lint test-sqlite test-postgresql bench bench-1m bench-stats bench-web clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "ticketdesk needs Python 3.11 or newer (set PYTHON=...)"; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Front-end libraries (htmx, its SSE extension, axe-core for the browser tests), exactly as
# package-lock.json pins them; the pages serve them from node_modules.
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

run: install
	$(BIN)/ticketdesk serve

migrate: install
	$(BIN)/ticketdesk migrate

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
	TICKETDESK_TEST_DB=sqlite $(BIN)/pytest -q $(PYTEST_ARGS)

# Without a reachable PostgreSQL the half is skipped with a clear message, except under CI.
test-postgresql: install
	@if $(BIN)/python -m tests.postgres_probe "$(TEST_POSTGRES_URL)"; then \
		echo "== test suite on PostgreSQL =="; \
		TICKETDESK_TEST_DB=postgresql TICKETDESK_TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" \
			$(BIN)/pytest -q $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL is not reachable at $(TEST_POSTGRES_URL): failing, as CI must test both databases."; \
		exit 1; \
	else \
		echo "*** PostgreSQL is not reachable at $(TEST_POSTGRES_URL): the PostgreSQL half of the suite was SKIPPED. ***"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (PostgreSQL on 127.0.0.1:5432): figures, not tests. See the README's performance section.
bench-stats: install
	$(BIN)/python -m bench.stats_bench --tickets 1000000

LOAD_SIZES ?= 10000,100000
bench: install
	$(BIN)/python -m bench.load --sizes $(LOAD_SIZES) --seconds 20 --concurrency 16 --workers 2

# The desk's pages at 1,000,000 tickets, the live-update delay, JavaScript per page.
bench-web: install
	$(BIN)/python -m bench.web_bench --tickets 1000000

bench-1m: install
	$(BIN)/python -m bench.load --sizes 1000000 --seconds 20 --concurrency 16 --workers 2

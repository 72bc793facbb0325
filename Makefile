# The two commands: `make run` serves the API, `make test` runs every check and test.
# Both create the virtualenv they need; only Python 3.11+ is required.
# `make client` regenerates the TypeScript client (clients/typescript/; needs Node.js 20+).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck contracts pytest bench clean lock client api-docs fuzz

# `make run` installs only what serving needs, with the embedded PostgreSQL (the `embedded`
# extra); `make test` installs the development lock instead (tools and `embedded` included).
RUN_STAMP := $(VENV)/.installed-run

run: $(RUN_STAMP)
	$(BIN)/taskapp serve

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "taskapp needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded]'
	touch $(RUN_STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# Exactly the locked versions (each checked against its hash), then taskapp itself.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "taskapp needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve both lock files from pyproject.toml (after changing a dependency there).
LOCK = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command 'make lock'
lock: $(STAMP)
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock

# The typed TypeScript client: the document as `taskapp openapi` prints it, the types
# openapi-typescript makes of it (pinned in package-lock.json), then a type check of the
# client and its example. tests/api/test_typescript_client.py fails until this is re-run
# and committed after an API change.
CLIENT := clients/typescript

client: $(RUN_STAMP)
	@command -v npm >/dev/null || { echo "make client needs Node.js 20+ and npm"; exit 1; }
	$(BIN)/taskapp openapi > $(CLIENT)/openapi.json.tmp
	mv $(CLIENT)/openapi.json.tmp $(CLIENT)/openapi.json
	cd $(CLIENT) && npm ci --no-audit --no-fund && npm run --silent generate && npm run --silent typecheck

# docs/api.md: the API reference, generated from the same document.
api-docs: $(RUN_STAMP)
	$(BIN)/taskapp openapi --markdown > docs/api.md.tmp
	mv docs/api.md.tmp docs/api.md

# The schemathesis CLI with every check and every phase (stateful included) against a real
# `taskapp serve` on a throwaway database: a database of its own on DATABASE_URL's server if
# set, else an embedded PostgreSQL. Fails on any failure. More CLI options through
# FUZZ_OPTIONS, e.g. `make fuzz FUZZ_OPTIONS="--seed 7 --max-examples 300"`.
# The rules beyond the built-in checks: tests/support/schemathesis_rules.py.
fuzz: $(STAMP)
	$(BIN)/python -m tests.support.live_fuzz $(FUZZ_OPTIONS)

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.webhooks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

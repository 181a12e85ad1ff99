# The two commands a newcomer needs: `make run` starts the whole system, `make test` runs the whole suite.
# Both install what they need: a virtual environment, the Kafka broker's jars and PostgreSQL (and `make test` the
# AsyncAPI parser, from its npm lock).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
# The AsyncAPI project's parser validates the committed documents; installed from its lock, again only when it changes.
ASYNCAPI_TOOLS := tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_TOOLS)/node_modules/.installed-$(shell sha256sum $(ASYNCAPI_TOOLS)/package-lock.json | cut -c1-12)
STACK_ENV = set -a && eval "$$($(PYTHON) -m deploy.stack env)" && set +a

.PHONY: venv asyncapi-tools up down status lint test test-unit run demo contracts bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# npm ci starts from an empty node_modules, so an older stamp goes with it; no install scripts are needed. The
# stamp is named after the lock's content, not its time, so a checkout or rebase that rewrites the file does not
# reinstall the same packages.
asyncapi-tools: $(ASYNCAPI_STAMP)

$(ASYNCAPI_STAMP):
	cd $(ASYNCAPI_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

up:
	$(PYTHON) -m deploy.stack up

down:
	$(PYTHON) -m deploy.stack down

status:
	$(PYTHON) -m deploy.stack status

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Regenerate the committed JSON Schemas and AsyncAPI document after a contract change.
contracts: venv
	$(PY) -m lhl.export
	$(PY) -m lhl.contracts_page

test-unit: venv
	$(PY) -m pytest tests/unit -q

test: venv lint asyncapi-tools up
	$(STACK_ENV) && LHL_REQUIRE_INTEGRATION=1 $(PY) -m pytest

run: venv up
	$(STACK_ENV) && $(VENV)/bin/lhl run

demo: venv up
	$(STACK_ENV) && $(VENV)/bin/lhl demo

bench: venv up
	$(STACK_ENV) && $(PY) -m benchmarks.audit_throughput

clean: down
	rm -rf $(VENV) .local

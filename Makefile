# The two commands a newcomer needs: `make run` starts the whole system, `make test` runs the whole suite.
# Both install what they need: a virtual environment, the Kafka broker's jars and PostgreSQL.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
STACK_ENV = set -a && eval "$$($(PYTHON) -m deploy.stack env)" && set +a

.PHONY: venv up down status lint test test-unit run demo contracts bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

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

test: venv lint up
	$(STACK_ENV) && LHL_REQUIRE_INTEGRATION=1 $(PY) -m pytest

run: venv up
	$(STACK_ENV) && $(VENV)/bin/lhl run

demo: venv up
	$(STACK_ENV) && $(VENV)/bin/lhl demo

bench: venv up
	$(STACK_ENV) && $(PY) -m benchmarks.audit_throughput

clean: down
	rm -rf $(VENV) .local

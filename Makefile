# The two commands a newcomer needs: `make run` starts the whole system, `make test` runs the whole suite.
# Both install what they need: a virtual environment, the Kafka broker's jars and PostgreSQL (and `make test` the
# AsyncAPI parser, from its npm lock, and the compose specification's checker, from its Go module lock).

# The interpreter the venv is made from: the operating system's own Python 3.11 when it has one that can make a
# venv, otherwise the first python3 on PATH; `make PYTHON=...` picks another. Debian builds its own with
# profile-guided and link-time optimisation (its changelog says so); on this project's machine the services ran a
# sixth faster on it than on pyenv's default build of 3.11, which has neither (docs/performance.md).
SYSTEM_PYTHON := /usr/bin/python3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(if $(shell $(SYSTEM_PYTHON) -c 'import ensurepip, venv' 2>/dev/null && echo yes),$(SYSTEM_PYTHON),python3)
endif
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Every install comes from the lock files: requirements/dev.txt for the venv (runtime, dev and local extras),
# requirements/runtime.txt for the service image. `make lock` regenerates both from pyproject.toml.
LOCKS  := requirements/runtime.txt requirements/dev.txt
# Named after the locks and the interpreter, so that either changing makes a fresh venv.
STAMP  := $(VENV)/.installed-$(shell (cat pyproject.toml $(LOCKS); echo $(PYTHON)) | sha256sum | cut -c1-12)
# Only `make lock` needs uv, in a throwaway venv of its own: installing needs nothing but pip.
UV_VERSION := 0.13.9
LOCK_TOOLS := .local/lock-tools
UV_COMPILE  = $(LOCK_TOOLS)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
              --custom-compile-command 'make lock' $(LOCK_FLAGS)
STACK_ENV = set -a && eval "$$($(PYTHON) -m deploy.stack env)" && set +a

# The AsyncAPI project's parser validates the committed documents; installed from its lock, again only when it changes.
ASYNCAPI_TOOLS := tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_TOOLS)/node_modules/.installed-$(shell sha256sum $(ASYNCAPI_TOOLS)/package-lock.json | cut -c1-12)

# The compose specification's JSON schema and compose-go's loader (what `docker compose config` runs) check
# deploy/compose.yaml, since no Docker engine runs here. Both come from the Go module pinned in
# tools/compose-spec/go.mod; go verifies every download against tools/compose-spec/go.sum (-mod=readonly: never
# rewritten) and the checksum database. They land in .local/compose-spec, again only when the pins change.
COMPOSE_TOOLS := tools/compose-spec
COMPOSE_DIR   := $(CURDIR)/.local/compose-spec
COMPOSE_STAMP := $(COMPOSE_DIR)/.installed-$(shell cat $(COMPOSE_TOOLS)/go.mod $(COMPOSE_TOOLS)/go.sum $(COMPOSE_TOOLS)/*.go | sha256sum | cut -c1-12)
COMPOSE_GO     = cd $(COMPOSE_TOOLS) && GOMODCACHE=$(COMPOSE_DIR)/modcache GOFLAGS='-mod=readonly -modcacherw' GOTOOLCHAIN=local go

.PHONY: venv lock asyncapi-tools compose-tools up down status lint test test-unit run demo contracts bench profile bench-signing bench-gateway bench-timers clean

venv: $(STAMP)

# A fresh venv each time, so a package the lock no longer names does not linger. The locks pin pip and the build
# backend too; --no-build-isolation builds the project with the locked setuptools instead of the newest one.
$(STAMP): pyproject.toml $(LOCKS)
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	$(PY) -m deploy.lockfile verify requirements/dev.txt
	touch $(STAMP)

# After a change to pyproject.toml's dependencies: regenerate both locks, keeping every pin that still fits, then
# commit them. `make lock LOCK_FLAGS=--upgrade` takes the newest releases instead. The runtime lock constrains the
# dev lock, so the venv runs the image's exact versions.
LOCK_FLAGS ?=
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(PYTHON) -m deploy.lockfile installer | $(UV_COMPILE) pyproject.toml - -o requirements/runtime.txt
	$(PYTHON) -m deploy.lockfile installer | $(UV_COMPILE) pyproject.toml - --extra dev --extra local \
		-c requirements/runtime.txt -o requirements/dev.txt

# npm ci starts from an empty node_modules, so an older stamp goes with it; no install scripts are needed. The
# stamp is named after the lock's content, not its time, so a checkout or rebase that rewrites the file does not
# reinstall the same packages.
asyncapi-tools: $(ASYNCAPI_STAMP)

$(ASYNCAPI_STAMP):
	command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	cd $(ASYNCAPI_TOOLS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

compose-tools: $(COMPOSE_STAMP)

$(COMPOSE_STAMP):
	command -v go >/dev/null || { apt-get update -qq && apt-get install -y -qq golang-go; }
	rm -rf $(COMPOSE_DIR) && mkdir -p $(COMPOSE_DIR)
	$(COMPOSE_GO) mod download github.com/compose-spec/compose-go/v2
	cp "$$($(COMPOSE_GO) list -m -f '{{.Dir}}' github.com/compose-spec/compose-go/v2)/schema/compose-spec.json" $(COMPOSE_DIR)/
	$(COMPOSE_GO) build -o $(COMPOSE_DIR)/compose-check .
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

# Regenerate the committed JSON Schemas, AsyncAPI documents and the broker's ACL policy after a contract change.
contracts: venv
	$(PY) -m lhl.export
	$(PY) -m lhl.contracts_page
	$(VENV)/bin/lhl acl export

test-unit: venv compose-tools
	$(PY) -m pytest tests/unit -q

test: venv lint asyncapi-tools compose-tools up
	$(STACK_ENV) && LHL_REQUIRE_INTEGRATION=1 $(PY) -m pytest

run: venv up
	$(STACK_ENV) && $(VENV)/bin/lhl run

demo: venv up
	$(STACK_ENV) && $(VENV)/bin/lhl demo

# Every service's catch-up rate beside a raw consumer, e-mails per second, latency to the audit at a fixed rate and
# RSS, each service in its own process. At the default size (10,000 events per service) it takes minutes when the
# services run at the rates issue 14 measured, far longer on a busy machine (3,000 took 18 minutes at load 10).
# `make bench BENCH_FLAGS="--events 100000"` for the RSS after 100k events, `python -m benchmarks --help` for the
# rest. Prints figures, asserts none.
BENCH_FLAGS ?=
bench: venv up
	$(STACK_ENV) && $(PY) -m benchmarks $(BENCH_FLAGS)

# The meetings service's top frames during catch-up, sampled by py-spy (raw stacks under .local/profile).
profile: venv up
	$(STACK_ENV) && $(PY) -m benchmarks --only meetings --latency-seconds 0 --profile .local/profile $(BENCH_FLAGS)

# Events a second accepted through the gateway's POST /events, beside the raw Kafka publish rate, and the p99 of a 202.
bench-gateway: venv up
	$(STACK_ENV) && $(PY) -m benchmarks.gateway

# What signing and verifying one event costs, on one core; needs no broker.
bench-signing: venv
	$(PY) -m benchmarks.signing_cost

# What cancelling timers by key prefix costs as the timers table grows, beside the statement it replaced.
bench-timers: venv up
	$(STACK_ENV) && $(PY) -m benchmarks.timer_cancel

clean: down
	rm -rf $(VENV) .local

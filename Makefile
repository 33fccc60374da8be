# HNTH Ops: the commands README names. Everything installs what it needs.
SHELL := /bin/bash
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
COMPOSE_UP := $(shell docker info >/dev/null 2>&1 && echo docker)

.PHONY: help install up down status unit test drill bench lint docs build-infra browser \
	images bundle compose-test engine-stop

help:
	@echo "make up | down | status | unit | test | drill | bench | lint | docs | images | bundle | compose-test"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

# FerretDB (with a small patch, infra/ferretdb/) and the test OpenID provider (zitadel/oidc,
# infra/oidc/) are built from the Go module proxy, once (cached in .cache/).
build-infra: install
	@command -v patch >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patch; }
	@$(UV) run python -m infra.stack build

up: install
ifeq ($(COMPOSE_UP),docker)
	docker compose up -d --wait
	@echo "registration http://127.0.0.1:8001/docs  scheduling :8002  notification :8003  inspection :8004  console http://127.0.0.1:8080  mail http://127.0.0.1:8025  grafana http://127.0.0.1:3000"
else
	@$(UV) run python -m infra.stack up
endif

down:
ifeq ($(COMPOSE_UP),docker)
	docker compose down
else
	@$(UV) run python -m infra.stack down
endif

status:
	@$(UV) run python -m infra.stack status

# Debian's Chromium and its driver, for the console's browser tests (a browser build
# downloaded by a test tool does not work here).
# axe-core (the accessibility check the browser tests inject) from npm, as locked in tests/axe.
# Only what is missing is installed: a machine whose Node.js came from elsewhere (with its
# own npm) refuses Debian's npm package as a conflict.
browser:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	[ -z "$$missing" ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }
	@test -f tests/axe/node_modules/axe-core/axe.min.js || npm ci --prefix tests/axe --no-audit --no-fund --silent

# Domain and use-case tests over in-memory stores: no Kafka, no database, seconds.
UNIT_TESTS = contracts/tests tests/unit $(wildcard kit/tests/unit services/*/tests/unit console/tests/unit)
UNIT_RUN = HNTH_UNIT_ONLY=1 $(UV) run pytest -q -p no:cacheprovider $(UNIT_TESTS)
unit: install
	$(UNIT_RUN)

# The unit suite again on a Sunday, then across midnight into a Monday and a new year in
# Vietnam (conftest.py: HNTH_TEST_CLOCK): tests must not depend on the day they run.
unit-clock: install
	HNTH_TEST_CLOCK=2028-12-31T12:00:00+07:00 $(UNIT_RUN)
	HNTH_TEST_CLOCK=2028-12-31T23:59:00+07:00 \
		HNTH_TEST_CLOCK_AFTER_COLLECTION=2029-01-01T00:00:01+07:00 $(UNIT_RUN)

test: install build-infra browser unit-clock
	$(UV) run pytest --durations=40

drill: install build-infra
	HNTH_DRILL_SIZE=300 $(UV) run pytest tests/drills -p no:cacheprovider

bench: install build-infra
	$(UV) run python bench/e2e_bench.py --meetings 300 --rate 5 50 --replicas 1 2
	$(UV) run python bench/scheduling_bench.py

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

docs: install
	HNTH_POLICY_DIR=$(CURDIR)/policies $(UV) run python -m hnth_kit.asyncapi docs/asyncapi

# The compose deployment on a Docker engine of our own (infra/docker_engine.py: Debian's
# docker.io on its own socket, Compose from Debian's archive, every image built here;
# cached in .cache/docker/). `make images` leaves the engine running: `make engine-stop`.
images: install build-infra
	@$(UV) run python -m infra.docker_engine images

# the offline bundle for a server without internet (README: Deploying with Docker Compose)
bundle: install build-infra
	@$(UV) run python -m infra.docker_engine bundle dist/bundle

engine-stop: install
	@$(UV) run python -m infra.docker_engine stop

# the compose file on real containers; fails (never skips) when the engine cannot start
compose-test: install build-infra
	$(UV) run pytest -p no:cacheprovider -m compose tests/compose -s --durations=10

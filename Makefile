# Rental marketplace analytics. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
RENTALS := $(BIN)/rentals
RUN_DATE ?= $(shell date -u +%F)

.PHONY: help setup up down generate run report test test-unit lint format clean bench docker-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## install Debian packages and the project into .venv (idempotent)
	@scripts/bootstrap.sh

up: setup ## start the private MariaDB, PostgreSQL and AWS emulator of $$RENTALS_HOME
	@$(RENTALS) up

down: ## stop them
	@[ ! -x $(RENTALS) ] || $(RENTALS) down

generate: up ## generate the default synthetic source data (scale 0.05) if the source is empty
	@$(RENTALS) source generate --if-empty --scale $${SCALE:-0.05} --seed $${SEED:-42}

run: generate ## run the pipeline on the default data, then print the KPIs
	@$(RENTALS) run --run-date $(RUN_DATE)
	@$(RENTALS) report

report: ## print the KPI report
	@$(RENTALS) report

lint: setup ## ruff, sqlfluff, sqlcheck (Redshift differences), statelint and cfn-lint
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/sqlfluff lint redshift/ --disable-progress-bar --processes 2
	@$(BIN)/python -m rental_analytics.warehouse.sqlcheck redshift/ rental_analytics/
	@$(BIN)/statelint workflow/rental_analytics.asl.json
	@$(BIN)/cfn-lint infra/rental_analytics.yaml

format: setup ## apply ruff format and sqlfluff fix
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .
	@$(BIN)/sqlfluff fix redshift/ --disable-progress-bar

test: lint ## lint, then every test (unit, integration on real engines, e2e)
	@$(BIN)/pytest

test-unit: setup ## the unit tests only
	@$(BIN)/pytest tests/unit

clean: ## stop services, delete the local home ($$RENTALS_HOME, default .rentals) and its PostgreSQL cluster
	@if [ -x $(RENTALS) ]; then $(RENTALS) clean; else rm -rf "$${RENTALS_HOME:-.rentals}"; fi
	rm -rf spark-warehouse

bench: setup ## benchmark: generate scale $$SCALE (default 1) and time the pipeline on it
	@$(BIN)/python scripts/bench.py --scale $${SCALE:-1} --pipeline

# Passwords for the throwaway databases are generated per run and only passed through the
# environment; compose.yaml refuses to start without them. Containers and volumes are removed
# afterwards, and the exit status is the test container's.
COMPOSE := docker compose -f docker/compose.yaml
docker-test: ## the tests inside the Glue 5 image beside MariaDB/PostgreSQL containers (Docker; not in CI)
	@export RENTALS_TEST_MARIADB_PASSWORD=$$(python3 -c 'import secrets; print(secrets.token_hex(16))') \
	        RENTALS_TEST_POSTGRES_PASSWORD=$$(python3 -c 'import secrets; print(secrets.token_hex(16))'); \
	$(COMPOSE) up --build --attach tests --exit-code-from tests; status=$$?; \
	$(COMPOSE) down --volumes --remove-orphans; exit $$status

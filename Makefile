# Rental marketplace analytics. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
RENTALS := $(BIN)/rentals
RUN_DATE ?= $(shell date -u +%F)

.PHONY: help setup up down generate run report test test-unit lint format clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install Debian packages and the project into .venv (idempotent)
	@scripts/bootstrap.sh

up: setup ## start the private MariaDB and PostgreSQL of $$RENTALS_HOME
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

lint: setup ## ruff, sqlfluff and statelint
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/sqlfluff lint redshift/ --disable-progress-bar --processes 2
	@$(BIN)/statelint workflow/rental_analytics.asl.json

format: setup ## apply ruff format and sqlfluff fix
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .
	@$(BIN)/sqlfluff fix redshift/ --disable-progress-bar

test: lint ## lint, then every test (unit, integration on real engines, e2e)
	@$(BIN)/pytest

test-unit: setup ## the unit tests only
	@$(BIN)/pytest tests/unit

clean: down ## stop services and delete the local home (.rentals)
	rm -rf .rentals spark-warehouse

bench: setup ## benchmark: generate scale $$SCALE (default 1) and time the pipeline on it
	@$(BIN)/python scripts/bench.py --scale $${SCALE:-1} --pipeline

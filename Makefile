# Switchyard: one entry point. Every target bootstraps .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
PYTEST := .venv/bin/pytest
UV := .tools/bin/uv
SERVICE ?=
TARGET ?=
STAGE ?= dev

PACKAGES := libs/contracts services/user-api services/router services/connectors \
	services/dlq-processor infra/local infra

.PHONY: help bootstrap up test test-fast lint format bench build deploy lock clean

help:
	@echo "make up                   run the whole system locally on the GitHub events"
	@echo "make test                 every test suite (packages, console, infra, tests/)"
	@echo "make lint                 ruff format --check and ruff check"
	@echo "make bench                benchmarks (ratios; never pass/fail)"
	@echo "make build SERVICE=name   a reproducible Lambda zip for one service"
	@echo "make deploy TARGET=name   deploy one target (see infra/README.md)"
	@echo "make format               ruff format and ruff check --fix"
	@echo "make lock                 re-resolve uv.lock after a pyproject.toml change"
	@echo "make clean                remove .venv, .tools, dist and .build"

bootstrap:
	@scripts/bootstrap.sh

up: bootstrap
	$(PY) -m switchyard_local up

test: bootstrap
	@scripts/run_tests.sh

lint: bootstrap
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .

format: bootstrap
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: bootstrap
	$(PY) -m bench

build: bootstrap
	@test -n "$(SERVICE)" || { echo "usage: make build SERVICE=<router|user-api|connectors|dlq-processor>"; exit 2; }
	$(PY) -m switchyard_infra.build $(SERVICE)

deploy: bootstrap
	@test -n "$(TARGET)" || { echo "usage: make deploy TARGET=<shared|api|site|console-static|SERVICE> [STAGE=dev]"; exit 2; }
	$(PY) infra/deploy.py $(TARGET) --stage $(STAGE) $(ARGS)

lock:
	@test -x $(UV) || scripts/bootstrap.sh
	$(UV) lock

clean:
	rm -rf .venv .tools dist .build

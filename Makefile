# civicloop — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STACK := deploy/local/stack.sh
PYTEST_ARGS ?=
# Another profile (deploy/local/profiles/<name>.env) lets a second checkout test beside this one.
TEST_PROFILE ?= test

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/civicloop: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is needed"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Python dependencies into $(VENV)"
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

install: $(BIN)/civicloop ## create .venv with pinned dependencies

run: install ## start the whole platform with demo data and print how to use it
	@$(STACK) up run
	@$(BIN)/civicloop demo load --gateway http://127.0.0.1:8080 --profile run
	@$(BIN)/civicloop demo hello --gateway http://127.0.0.1:8080 --profile run

stop: ## stop everything `make run` started
	@$(STACK) down run

status: ## what is running
	@$(STACK) status run

test: install ## install, start the infrastructure and run the whole suite (the statement audit included)
	@echo "==> ruff"
	@$(BIN)/ruff check civicloop services tests deploy bench
	@$(STACK) infra $(TEST_PROFILE)
	@$(STACK) browser $(TEST_PROFILE)
	@set -o pipefail; status=0; \
	  CIVICLOOP_STATEMENT_AUDIT=1 CIVICLOOP_TEST_PROFILE=$(TEST_PROFILE) $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	  $(STACK) down $(TEST_PROFILE)-faults >/dev/null 2>&1 || true; \
	  $(STACK) down $(TEST_PROFILE)-sim >/dev/null 2>&1 || true; \
	  $(STACK) down $(TEST_PROFILE); exit $$status

faults: install ## only the fault suite (its own stack and RabbitMQ nodes, stopped at the end)
	@set -o pipefail; status=0; \
	  CIVICLOOP_TEST_PROFILE=$(TEST_PROFILE) $(BIN)/pytest tests/faults $(PYTEST_ARGS) || status=$$?; \
	  $(STACK) down $(TEST_PROFILE)-faults >/dev/null 2>&1 || true; exit $$status

# A large fuzzing budget (tests/e2e/test_fuzz.py runs a small one in `make test`): the test stack is
# started for it and stopped after; the counts are printed at the end and land in bench-results/fuzz.json.
# Hypothesis stops early on operations with few distinct inputs: 11,000 asked gives ~10,470 run (10,000 gave 9,605).
FUZZ_CASES ?= 11000
fuzz: install ## fuzz every service's OpenAPI document through the gateway (schemathesis), FUZZ_CASES cases
	@$(STACK) up $(TEST_PROFILE)
	@set -o pipefail; status=0; \
	  $(BIN)/python -m tests.fuzz --profile $(TEST_PROFILE) --cases $(FUZZ_CASES) || status=$$?; \
	  $(STACK) down $(TEST_PROFILE); exit $$status

unit: install ## only the unit tests (no servers)
	@$(BIN)/pytest tests/unit $(PYTEST_ARGS)

lint: install ## ruff
	@$(BIN)/ruff check civicloop services tests deploy bench
	@$(BIN)/ruff format --check civicloop services tests deploy bench

lock: ## re-pin the whole dependency tree into constraints.txt
	@$(BIN)/pip freeze --exclude-editable | grep -v '^civicloop' > constraints.txt

rules: ## check the Prometheus rules and run their unit tests (promtool)
	@promtool check rules deploy/prometheus/rules/*.yml
	@promtool check config deploy/prometheus/prometheus.yml
	@promtool test rules deploy/prometheus/tests/rules_test.yml

clean: ## stop both profiles and remove their data
	@$(STACK) reset run
	@$(STACK) reset test

k8s: ## render deploy/k8s for Gutian County to stdout (kustomize built from its Go module into .tools/ once)
	@deploy/k8s/tools.sh render gutian

# The county simulator (civicloop/simulate): a year of Gutian, and a month under chaos, each on a stack of
# its own (profiles sim and sim-chaos), stopped at the end. SIM_ARGS adds options, e.g. --resume.
SIM_DAYS ?= 365
SIM_SPEED ?= 1440
SIM_ARGS ?=
simulate: install ## a simulated year of Gutian County through the real stack, then its report (~6 h)
	@$(BIN)/civicloop simulate --scenario gutian --days $(SIM_DAYS) --speed $(SIM_SPEED) $(SIM_ARGS)

simulate-chaos: install ## a simulated month under chaos (kills, pauses, partitions, clock jumps); counts lost/doubled/stuck
	@$(BIN)/civicloop simulate --scenario gutian --days 30 --speed $(SIM_SPEED) --chaos $(SIM_ARGS)

bench: install ## dispatch benchmark: indexed vs naive decisions/s, batch vs greedy (docs/bench/dispatch.md)
	@$(BIN)/python bench/dispatch_bench.py --summary

# Sizes and loops of bench-growth, e.g. GROWTH_ARGS='--sizes 1000,10000 --loops 10'.
GROWTH_ARGS ?=

bench-growth: install ## stored history 1k → 1M: latencies and idle CPU per size (docs/bench/growth.md)
	@$(BIN)/python bench/growth_bench.py --profile $(TEST_PROFILE) $(GROWTH_ARGS)

# Sizes of bench-throughput, e.g. THROUGHPUT_ARGS='--events 1000 --repeats 1 --loop-seconds 30'.
THROUGHPUT_ARGS ?=

bench-throughput: install ## bus, write path and loop side by side, 1 vs 2 replicas (docs/bench/throughput.md)
	@$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@set -o pipefail; status=0; \
	  $(BIN)/python bench/throughput_bench.py --profile bench-throughput $(THROUGHPUT_ARGS) || status=$$?; \
	  $(STACK) down bench-throughput >/dev/null 2>&1 || true; exit $$status

.PHONY: help install run stop status test faults fuzz unit lint lock clean rules k8s bench bench-growth bench-throughput simulate simulate-chaos

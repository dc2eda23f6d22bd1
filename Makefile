# attack-pipeline: `make all` builds every artifact into outputs/, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MIRROR ?= $(if $(ATTACK_PIPELINE_MIRROR),$(ATTACK_PIPELINE_MIRROR),../shared/data)
OUT ?= outputs
SITE ?= site
ATTACK_VERSION ?=
VERSION_OPT := $(if $(ATTACK_VERSION),--attack-version $(ATTACK_VERSION),)

.PHONY: help install all site test bench fuzz clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  variables: MIRROR=$(MIRROR) OUT=$(OUT) ATTACK_VERSION=<release>"

$(BIN)/attack-pipeline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/attack-pipeline ## create .venv and install the package with dev extras

all: $(BIN)/attack-pipeline ## full build of every artifact into OUT (default outputs/)
	$(BIN)/attack-pipeline build --mirror $(MIRROR) --out $(OUT) $(VERSION_OPT)

site: $(BIN)/attack-pipeline ## the docs site of the build in OUT, into SITE (default site/)
	$(BIN)/attack-pipeline site --out $(OUT) --site-dir $(SITE)

test: $(BIN)/attack-pipeline ## run the tests (real-data tests read MIRROR)
	ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/pytest -q

bench: $(BIN)/attack-pipeline ## run every benchmark in bench/ against its reference tool
	@for script in bench/bench_*.py; do \
		echo "== $$script"; \
		ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/python $$script || exit 1; \
	done

fuzz: $(BIN)/attack-pipeline ## property tests with new random inputs, then mutation-fuzz every parser for FUZZ_SECONDS each (default 30)
	ATTACK_PIPELINE_MIRROR=$(MIRROR) ATTACK_PIPELINE_HYPOTHESIS=fuzz $(BIN)/pytest -q -m 'not realdata and not reference' tests/fuzz
	ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/python bench/fuzz_parsers.py --seconds $(or $(FUZZ_SECONDS),30)

clean: ## remove outputs and caches (keeps .venv)
	rm -rf $(OUT) $(SITE) $(dir $(SITE)).$(notdir $(SITE)).builds .pytest_cache .hypothesis bench/results

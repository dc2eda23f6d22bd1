# attack-pipeline: `make all` builds every artifact into outputs/, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MIRROR ?= $(if $(ATTACK_PIPELINE_MIRROR),$(ATTACK_PIPELINE_MIRROR),../shared/data)
OUT ?= outputs
SITE ?= site
ATTACK_VERSION ?=
VERSION_OPT := $(if $(ATTACK_VERSION),--attack-version $(ATTACK_VERSION),)
# The tests `make check` runs (tests/markers.py names the files): see docs/testing.md.
CHECK_MARKERS ?= check and not slow and not reference

.PHONY: help install all site test check bench fuzz clean distclean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'
	@echo "  variables: MIRROR=$(MIRROR) OUT=$(OUT) ATTACK_VERSION=<release>"

$(BIN)/attack-pipeline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@# An editable install compiles nothing: where bytecode is not written (PYTHONDONTWRITEBYTECODE), every start would.
	$(BIN)/python -m compileall -q pipeline
	@touch $@

install: $(BIN)/attack-pipeline ## create .venv and install the package with dev extras

all: $(BIN)/attack-pipeline ## full build of every artifact into OUT (default outputs/)
	$(BIN)/attack-pipeline build --mirror $(MIRROR) --out $(OUT) $(VERSION_OPT)
	@echo "the command line: . $(VENV)/bin/activate   (then attack-pipeline --help), or $(BIN)/attack-pipeline"

site: $(BIN)/attack-pipeline ## the docs site of the build in OUT, into SITE (default site/)
	$(BIN)/attack-pipeline site --out $(OUT) --site-dir $(SITE)

test: $(BIN)/attack-pipeline ## run every test, as CI does (about 40 min on 2 cores)
	ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/pytest -q

check: $(BIN)/attack-pipeline ## a representative fast subset for day-to-day work (about 1-2 min on 2 cores)
	ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/pytest -q -m '$(CHECK_MARKERS)'

bench: $(BIN)/attack-pipeline ## run every benchmark in bench/ against its reference tool
	@for script in bench/bench_*.py; do \
		echo "== $$script"; \
		ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/python $$script || exit 1; \
	done

fuzz: $(BIN)/attack-pipeline ## property tests with new random inputs, then mutation-fuzz every parser for FUZZ_SECONDS each (default 30)
	ATTACK_PIPELINE_MIRROR=$(MIRROR) ATTACK_PIPELINE_HYPOTHESIS=fuzz $(BIN)/pytest -q -m 'not realdata and not reference' tests/fuzz
	ATTACK_PIPELINE_MIRROR=$(MIRROR) $(BIN)/python bench/fuzz_parsers.py --seconds $(or $(FUZZ_SECONDS),30)

# Builds live in .<name>.builds/ beside the OUT and SITE links; `clean` keeps the one
# each link points at (and a build under way, .new-*, which the next build prunes if it
# was killed), `distclean` removes everything the pipeline made.
clean: ## remove old builds (keeps the current outputs and site), the site's page cache, parsed caches, test caches
	@for link in $(OUT) $(SITE); do \
		builds="$$(dirname "$$link")/.$$(basename "$$link").builds"; \
		[ -d "$$builds" ] || continue; \
		current="$$(readlink -f "$$link" 2>/dev/null || true)"; \
		for b in "$$builds"/*; do \
			[ -e "$$b" ] || continue; \
			[ "$$(readlink -f "$$b")" = "$$current" ] || { echo "rm -rf $$b"; rm -rf "$$b"; }; \
		done; \
	done
	rm -rf $(dir $(SITE)).$(notdir $(SITE)).cache data/cache/parsed .pytest_cache .hypothesis bench/results

distclean: ## remove every build, outputs, site, the site's page cache, the whole cache and .venv
	rm -rf $(OUT) $(SITE) $(dir $(OUT)).$(notdir $(OUT)).builds $(dir $(SITE)).$(notdir $(SITE)).builds
	rm -f $(dir $(OUT)).$(notdir $(OUT)).lock $(dir $(SITE)).$(notdir $(SITE)).lock
	rm -rf $(dir $(SITE)).$(notdir $(SITE)).cache
	rm -rf data/cache .pytest_cache .hypothesis bench/results $(VENV)

# The two commands of the README:
#   make demo   set up (first time) and run the whole pipeline on the embedded synthetic world
#   make test   set up (first time) and run the test suite
#   make report after make demo: report.html, the results, figures and tables of every stage
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: demo test report setup clean-results

demo: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES)
	@$(BIN)/python -m zsar.report.summary --main results/*/synthetic_0_50.json results/*/synthetic_0_100.json
	@echo "Generalized zero-shot (seen and unseen classes in the test set; docs/gzsl.md):"
	@$(BIN)/python -m zsar.report.summary results/e2e_synthetic/synthetic_gzsl_50.json
	@echo "Every path of every run: results/summary.csv. The report: make report, then open report.html."

report: $(VENV)/.installed
	$(BIN)/snakemake --report report.html

test: $(VENV)/.installed
	$(BIN)/pytest -ra --durations=15

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-parser.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-parser.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Removes every pipeline artefact (all are reproducible); keeps the environment.
clean-results:
	rm -rf data/synthetic data/synthkinetics index semantic clips models features prototypes splits results logs plots report.html

# metrics workbook: `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PERIOD ?=
JOBS   ?=
DATA   ?= data/demo
# `make lab` listens on LAB_IP:LAB_PORT; the default, 127.0.0.1, is reachable from this machine only
LAB_IP   ?= 127.0.0.1
LAB_PORT ?= 8888

.DEFAULT_GOAL := help
.PHONY: help install report test test-quick lint lab golden bench demo-data validate metrics clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# the spark extra (pyspark, ~430 MB download) lets tests/test_engines.py compare Spark with DuckDB
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@# rfc3987-syntax (pulled in by some jupyter-events installs) builds a grammar on every import:
	@# about 5 s of each papermill, nbconvert or nbval start-up. Nothing here needs it (pip check stays clean).
	@$(BIN)/python -m pip uninstall --quiet -y rfc3987-syntax >/dev/null 2>&1 || true
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its dev and spark extras (when missing or stale)

report: $(STAMP) ## render the report notebooks for PERIOD (default: the data's default period) into reports/
	$(BIN)/python -m metrics_lib run --data $(DATA) $(if $(PERIOD),--period $(PERIOD),) $(if $(JOBS),--jobs $(JOBS),)

test: $(STAMP) ## run the whole test suite (unit, doctests, notebooks with nbval, browser check)
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q --doctest-modules metrics_lib
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/

test-quick: $(STAMP) ## the fast loop: unit tests and doctests, without servers, browsers, notebooks or whole runs
	$(BIN)/python -m pytest -q -m "not integration" tests
	$(BIN)/python -m pytest -q --doctest-modules metrics_lib

lint: $(STAMP) ## ruff (lint and format check), mypy on core/formulas/clv/metrics, import-layer contracts
	$(BIN)/ruff check metrics_lib tests bench
	$(BIN)/ruff format --check metrics_lib tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

lab: $(STAMP) ## JupyterLab on notebooks/ with the project's kernel; open the URL it prints (LAB_IP, LAB_PORT)
	@# no browser is opened, so this works the same on a remote machine: forward the port there
	@# (ssh -L 8888:127.0.0.1:8888 host) and open the printed URL here. JUPYTER_PREFER_ENV_PATH makes the
	@# notebooks' python3 kernel this .venv's Python even if the user has another python3 kernel installed.
	@# Jupyter refuses to run as root (containers often do) unless told --allow-root.
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --no-browser --ServerApp.root_dir=notebooks \
		--ServerApp.ip=$(LAB_IP) --ServerApp.port=$(LAB_PORT) $(if $(filter 0,$(shell id -u)),--allow-root,)

golden: $(STAMP) ## re-execute the notebooks in place on the demo data after an intended change (commit the outputs)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.kernel_name=python3 notebooks/[0-9][0-9]_*.ipynb

bench: $(STAMP) ## benchmark at 1M customers / 10M orders against pandas and lifetimes (not part of make test)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py $(if $(REPEATS),--repeats $(REPEATS),)

demo-data: $(STAMP) ## regenerate the committed demo data under data/demo
	$(BIN)/python -m metrics_lib demo-data --customers 4000 --seed 7 --out data/demo

validate: $(STAMP) ## check DATA (default data/demo) against the data contract
	$(BIN)/python -m metrics_lib validate --data $(DATA)

metrics: $(STAMP) ## print the headline metrics of PERIOD for DATA
	$(BIN)/python -m metrics_lib metrics --data $(DATA) $(if $(PERIOD),--period $(PERIOD),)

clean: ## remove generated reports and caches (keeps .venv)
	rm -rf reports/*/ reports/index.html .pytest_cache .hypothesis

# make run   - start the whole system with example agents (embedded SQLite + Redis)
# make test  - run the test suite against real PostgreSQL, Redis and Celery workers
# make bench - measure the execute path against raw Celery baselines
# make lint  - ruff on the whole tree, mypy on agent_sdk (CI runs it before the tests)

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench lint clean

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) scripts/dev_stack.py

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/execute_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .run instance

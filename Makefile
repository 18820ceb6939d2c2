# Two commands do all the set-up on a fresh machine: `make demo` and `make test`. Both install the Python tree from
# uv.lock and the npm tree from package-lock.json, exactly; `make upgrade` moves the locks on purpose.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# uv itself, at the version and hashes tools/uv-requirements.txt pins, in a venv of its own (a sync of .venv removes
# whatever the lock does not name).
UV := .tools/bin/uv
CHROMIUM := /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
# The interpreter this machine has, never one uv downloads; .venv is the project environment uv syncs.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup demo test check lock upgrade soak lint bench bench-long package clean

setup: $(PY_STAMP) $(NODE_STAMP) $(CHROMIUM) $(EMOJI_FONT)

$(UV): tools/uv-requirements.txt
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $<
	touch $@

# The locked tree and nothing else: a pyproject.toml whose ranges the lock no longer meets stops here.
$(PY_STAMP): pyproject.toml uv.lock $(UV)
	@$(UV) lock --check --quiet || { echo >&2 "uv.lock does not match pyproject.toml: run 'make lock' to re-lock" \
	  "(or 'make upgrade' to move every package to its newest allowed version), then commit uv.lock."; exit 1; }
	$(UV) sync --frozen --extra dev --python $(PYTHON) --quiet
	touch $@

# Re-lock after editing pyproject.toml: keeps every locked version the new ranges still allow.
lock: $(UV)
	$(UV) lock

# The newest versions the ranges allow (and the newest uv), then the whole suite on them; prints what moved.
upgrade: $(UV)
	$(PYTHON) -m tools.upgrade --uv $(UV) -- $(MAKE) --no-print-directory test

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

# The inner loop, under a minute: ruff, pyright, and every test that starts no server process (pytest -m "not servers";
# tests/conftest.py marks the rest). pyright runs beside the tests, on the other core.
check: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	@types=$$(mktemp); PATH="$(CURDIR)/$(VENV)/bin:$$PATH" node_modules/.bin/pyright >$$types 2>&1 & pyright=$$!; \
	$(PY) -m pytest -q -m "not servers"; tests=$$?; wait $$pyright; typed=$$?; \
	if [ $$typed != 0 ]; then cat $$types; fi; rm -f $$types; [ $$tests = 0 ] && [ $$typed = 0 ]

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
	rm -rf $(VENV) .tools node_modules .localcloud .pytest_cache .ruff_cache

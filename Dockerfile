# The agent as a container: slim Python, the project's runtime dependencies only, a non-root user, probes.
#   docker build -t graph-agent .
#   docker run --env-file .env -p 3978:3978 graph-agent
# HOST is 0.0.0.0 here only, so the port can be published; run outside a container, the agent binds localhost.
# tests/test_container.py runs these RUN lines and the CMD in a clean venv (there is no Docker engine in CI).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 agent
WORKDIR /app

# Dependencies first, exactly as uv.lock pins them (versions and hashes, runtime only), so a code change reuses this
# layer. uv, itself pinned by hash, only turns the lock into pip's hashed requirements (`--locked` stops the build when
# pyproject.toml and uv.lock disagree) and leaves the image again.
COPY pyproject.toml uv.lock tools/uv-requirements.txt ./
RUN pip install --require-hashes --no-deps -r uv-requirements.txt \
 && uv export --locked --no-dev --no-emit-project --no-header --format requirements.txt --output-file requirements.txt \
 && pip install --require-hashes --no-deps -r requirements.txt \
 && pip uninstall --yes uv

# Then the project itself, without dev extras, and the bytecode of the folder `python bot.py` imports it from:
# PYTHONDONTWRITEBYTECODE (and a non-root user) would otherwise have every start compile the agent's modules again.
COPY . .
RUN pip install --no-deps .
RUN python -m compileall -q .

USER agent
ENV HOST=0.0.0.0 \
    PORT=3978
EXPOSE 3978

# Liveness. Readiness (GET /readyz: 503 while shutting down) is for the orchestrator's own probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/healthz\", timeout=4)"]

# SIGTERM (docker stop) stops accepting, lets in-flight turns finish for up to 20 s, and exits 0.
STOPSIGNAL SIGTERM
CMD ["python", "bot.py"]

"""The container image, without a Docker engine: the Dockerfile's own steps, run in a clean venv.

The build context is staged as `.dockerignore` filters it, its COPY lines copy into an app folder (the image's
WORKDIR), its `pip`/`python` RUN lines run there with the venv first on PATH, and its CMD starts the agent with the
local cloud's settings as `docker run --env-file` would pass them, on 127.0.0.1 instead of the image's 0.0.0.0.
RUN lines that manage the image itself (`useradd`) are the engine's business and are skipped.

Like Docker's layer cache, the venv with the dependencies is kept between runs (under ~/.cache) for as long as the
Dockerfile's steps up to them, pyproject.toml and the locks are unchanged; the project itself is installed anew every
run.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from graph.client import WARM_UP_SECONDS
from localcloud.client import LocalCloudClient
from localcloud.launcher import ROOT, ChildProcess, CloudProcess, free_port, wait_for_port
from tools.upgrade import locked_versions

DOCKERFILE = ROOT / "Dockerfile"
CACHE = Path.home() / ".cache" / "graph-agent-container-test"
INSTALL_SECONDS = 900
SLOW_TURN_MS = 3000


@dataclass(frozen=True)
class Step:
    instruction: str
    argument: str


def dockerfile_steps(text: str) -> list[Step]:
    """Instructions with their continuation lines joined; comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [Step(*line.strip().split(maxsplit=1)) for line in joined.splitlines() if line.strip()]


def env_of(argument: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in argument.split())


def ignored(relative: str, patterns: list[str]) -> bool:
    """`.dockerignore` matching, enough for ours: the last matching pattern wins, `!` re-includes, a pattern matches
    the path or a folder above it, and `**/` matches a name at any depth."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        glob = pattern.removeprefix("!")
        if glob.startswith("**/"):
            hit = any(fnmatch.fnmatchcase(part, glob.removeprefix("**/")) for part in parts)
        else:
            hit = any(fnmatch.fnmatchcase(prefix, glob) for prefix in prefixes)
        if hit:
            result = not pattern.startswith("!")
    return result


def stage_context(target: Path) -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.is_file() and not ignored(relative, patterns):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)


@dataclass
class Image:
    app: Path
    venv: Path
    env: dict[str, str]
    cmd: list[str]
    context: Path


def run_step(command: str, app: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["sh", "-c", command], cwd=app, env=env, capture_output=True, text=True,
                          timeout=INSTALL_SECONDS)
    assert done.returncode == 0, f"RUN {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The Dockerfile's steps in order; the steps before `COPY . .` make the cached dependency layer."""
    root = tmp_path_factory.mktemp("image")
    context, app = root / "context", root / "app"
    stage_context(context)
    steps = dockerfile_steps(DOCKERFILE.read_text())
    whole_copy = next(index for index, step in enumerate(steps) if step == Step("COPY", ". ."))
    layer = hashlib.sha256(repr([sys.version_info[:2], steps[:whole_copy], *(
        (ROOT / name).read_text() for name in ("pyproject.toml", "uv.lock", "tools/uv-requirements.txt"))
    ]).encode()).hexdigest()[:16]
    venv = CACHE / layer / "venv"
    for stale in CACHE.glob("*"):
        if stale.name != layer:
            shutil.rmtree(stale, ignore_errors=True)
    cached = (venv / ".complete").exists()
    if not cached:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/root"),
           "VIRTUAL_ENV": str(venv)}
    cmd: list[str] = []
    for index, step in enumerate(steps):
        if step.instruction == "ENV":
            env.update(env_of(step.argument))
            env.pop("PIP_NO_CACHE_DIR", None)  # the image keeps no cache; this test may use pip's
        elif step.instruction == "WORKDIR":
            app.mkdir(exist_ok=True)
        elif step.instruction == "COPY":
            *sources, _ = step.argument.split()
            for source in sources:
                if source == ".":
                    shutil.copytree(context, app, dirs_exist_ok=True)
                else:
                    shutil.copy2(context / source, app / Path(source).name)
        elif step.instruction == "RUN" and step.argument.split()[0] in ("pip", "python"):
            if index > whole_copy or not cached:
                run_step(step.argument, app, env)
        elif step.instruction == "CMD":
            cmd = json.loads(step.argument)
    (venv / ".complete").touch()
    return Image(app=app, venv=venv, env=env, cmd=cmd, context=context)


@dataclass
class Container:
    child: ChildProcess
    url: str


@pytest.fixture
def container(image: Image, cloud: CloudProcess, tmp_path: Path) -> Iterator[Container]:
    port = free_port()
    env = {**image.env, **cloud.settings, "HOST": "127.0.0.1", "PORT": str(port)}
    with open(tmp_path / "container.log", "ab") as log:
        process = subprocess.Popen(image.cmd, cwd=image.app, env=env, stdout=log, stderr=subprocess.STDOUT)
    child = ChildProcess(process=process, name="container")
    try:
        wait_for_port(port, process, "the container's CMD")
        yield Container(child, f"http://127.0.0.1:{port}")
    finally:
        child.stop()


@pytest.fixture
async def channels(cloud: CloudProcess) -> AsyncIterator[LocalCloudClient]:
    async with LocalCloudClient(cloud.url) as client:
        try:
            yield client
        finally:
            await client.clear_faults()


def test_the_image_follows_pyproject_python_and_leaves_out_dev_tools(image: Image) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    base = dockerfile_steps(DOCKERFILE.read_text())[0]
    minimum = re.search(r'requires-python = ">=(\d+\.\d+)', pyproject)

    assert minimum and base == Step("FROM", f"python:{minimum.group(1)}-slim")
    installed = subprocess.run([str(image.venv / "bin" / "pip"), "list", "--format=json"], capture_output=True,
                               text=True, check=True).stdout
    names = {package["name"].lower() for package in json.loads(installed)}
    assert "graph-productivity-agent" in names and "msgraph-sdk" in names
    dev_only = {re.split(r"[<>=\[ ]", requirement)[0].lower()
                for requirement in tomllib.loads(pyproject)["project"]["optional-dependencies"]["dev"]}
    assert dev_only and not names & dev_only


def test_the_image_installs_the_versions_uv_lock_pins_and_nothing_else(image: Image) -> None:
    locked = locked_versions((ROOT / "uv.lock").read_text())
    installed = subprocess.run([str(image.venv / "bin" / "pip"), "list", "--format=json"], capture_output=True,
                               text=True, check=True).stdout
    versions = {re.sub(r"[-_.]+", "-", package["name"]).lower(): package["version"]  # PEP 503 names, as uv.lock's
                for package in json.loads(installed)}
    for installer in ("pip", "setuptools"):  # the base image's own
        versions.pop(installer, None)

    assert "uv" not in versions and "msgraph-sdk" in versions
    assert {name: version for name, version in versions.items() if locked.get(name) != version} == {}


def test_the_build_context_holds_no_secrets_tests_or_environments(image: Image) -> None:
    top = {path.name for path in image.context.iterdir()}

    assert "bot.py" in top and ".env.example" in top
    assert not top & {".env", ".git", ".venv", "node_modules", "tests", ".localcloud"}
    assert not list(image.context.rglob("__pycache__"))


def test_the_image_carries_the_bytecode_of_every_module_in_its_app_folder(image: Image) -> None:
    # `python bot.py` imports the agent from the app folder, where nobody may write bytecode at run time.
    sources = list(image.app.rglob("*.py"))

    assert sources and [source for source in sources if not Path(importlib.util.cache_from_source(str(source))).exists()
                        ] == []


async def test_healthz_answers_once_it_listens_and_readyz_once_warmed_up(container: Container) -> None:
    async with aiohttp.ClientSession(container.url) as session:
        async with session.get("/healthz") as response:
            assert response.status == 200
        async with asyncio.timeout(WARM_UP_SECONDS + 5):  # the warm-up is bounded; 503 until it is done
            while True:
                async with session.get("/readyz") as response:
                    if response.status == 200:
                        break
                    assert response.status == 503
                await asyncio.sleep(0.05)


async def test_sigterm_lets_a_slow_turn_finish_then_exits_0(container: Container,
                                                            channels: LocalCloudClient) -> None:
    await channels.add_fault("channels", "/teams/v3/conversations/*", latency_ms=SLOW_TURN_MS, count=1,
                             method="POST")
    turn = asyncio.create_task(channels.teams("adele", "/help", agent_endpoint=f"{container.url}/api/messages"))
    await asyncio.sleep(SLOW_TURN_MS / 3000)  # the turn is waiting on its reply's POST

    container.child.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    result = await turn

    assert time.monotonic() - signalled > 1  # the turn was still in flight when the signal came
    assert result.status in (200, 202) and any(reply.type == "message" for reply in result.replies)
    assert await asyncio.to_thread(container.child.process.wait, 30) == 0

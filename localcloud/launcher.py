"""Start the local cloud (or any server of ours) as a child process and stop it by PID.

Used by the tests, the benchmarks and `make demo`, so every one of them starts and stops servers the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ChildProcess:
    process: subprocess.Popen[bytes]
    name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL if it is still there after `timeout` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


@dataclass
class CloudProcess(ChildProcess):
    env_file: Path
    settings: dict[str, str]

    @property
    def url(self) -> str:
        """The control API and channels base URL."""
        return self.settings["LOCALCLOUD_URL"]


def start_cloud(env_file: Path, agent_endpoint: str | None = None, timeout: float = 30,
                log_file: Path | None = None, generated_users: int = 0) -> CloudProcess:
    """Run `python -m localcloud --env-file ENV_FILE` and wait until it has written its settings."""
    env_file = env_file.resolve()
    env_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "localcloud", "--env-file", str(env_file)]
    if agent_endpoint:
        command += ["--agent-endpoint", agent_endpoint]
    if generated_users:
        command += ["--generated-users", str(generated_users)]
    process = _popen(command, ROOT, {"PYTHONUNBUFFERED": "1"}, log_file)
    deadline = time.monotonic() + timeout
    while not env_file.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the local cloud exited with status {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise TimeoutError("the local cloud did not become ready in time")
        time.sleep(0.05)
    settings = {key: value or "" for key, value in dotenv_values(env_file).items()}
    return CloudProcess(process=process, name="localcloud", env_file=env_file, settings=settings)


def _popen(command: list[str], cwd: Path, env: dict[str, str], log_file: Path | None) -> subprocess.Popen[bytes]:
    """Start `command` with stdout and stderr appended to `log_file` (or discarded); the child keeps its own copy
    of the file, so ours is closed at once."""
    if log_file is None:
        return subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                env={**os.environ, **env})
    with open(log_file, "ab") as output:
        return subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **env})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`, failing early if `process` exits."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} did not listen on port {port} in time")
        time.sleep(0.1)


def start_server(name: str, command: list[str], port: int, *, env: dict[str, str] | None = None,
                 cwd: Path = ROOT, log_file: Path | None = None, timeout: float = 60) -> ChildProcess:
    """Start a server and wait until it listens on 127.0.0.1:`port`."""
    process = _popen(command, cwd, {"PYTHONUNBUFFERED": "1", **(env or {})}, log_file)
    child = ChildProcess(process=process, name=name)
    try:
        wait_for_port(port, process, name, timeout)
    except BaseException:
        child.stop()
        raise
    return child


# The storage emulator's well-known development account (documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def blob_connection_string(port: int) -> str:
    """The development account's connection string for a blob endpoint on 127.0.0.1:`port`."""
    return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};")


@dataclass
class AzuriteProcess(ChildProcess):
    port: int
    https: bool = False

    @property
    def connection_string(self) -> str:
        return blob_connection_string(self.port)

    @property
    def account_url(self) -> str:
        """The development account's blob endpoint, for clients that authenticate with Entra ID tokens (https)."""
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"


def start_azurite(port: int, location: Path | None = None, log_file: Path | None = None,
                  tls: tuple[Path, Path] | None = None) -> AzuriteProcess:
    """Run Azurite's Blob service on 127.0.0.1:`port`, in memory unless given a `location` folder.

    `--skipApiVersionCheck` is needed because azure-storage-blob speaks a newer API version than Azurite knows. With
    `tls` (a certificate chain and its key, PEM) it serves https and accepts Entra ID bearer tokens (`--oauth basic`:
    issuer, audience and lifetime are checked, the signature is not; Azurite takes bearer tokens only over https).
    """
    main = ROOT / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
    if not main.exists():
        raise FileNotFoundError("Azurite is not installed: run `npm ci` (make does)")
    storage = ["--location", str(location)] if location else ["--inMemoryPersistence"]
    command = ["node", str(main), "--blobHost", "127.0.0.1", "--blobPort", str(port), *storage,
               "--skipApiVersionCheck", "--disableTelemetry", "--silent"]
    if tls:
        command += ["--cert", str(tls[0]), "--key", str(tls[1]), "--oauth", "basic"]
    child = start_server("azurite", command, port, log_file=log_file)
    return AzuriteProcess(process=child.process, name=child.name, port=port, https=tls is not None)


@dataclass
class BlobProxyProcess(ChildProcess):
    port: int

    @property
    def url(self) -> str:
        """Where its control API (`/_localcloud/faults`) is."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def connection_string(self) -> str:
        return blob_connection_string(self.port)


def start_blob_proxy(upstream_port: int, port: int, log_file: Path | None = None) -> BlobProxyProcess:
    """Run `localcloud.blobproxy` on 127.0.0.1:`port` in front of the blob endpoint on `upstream_port` (Azurite)."""
    command = [sys.executable, "-m", "localcloud.blobproxy", "--upstream", f"http://127.0.0.1:{upstream_port}",
               "--port", str(port)]
    child = start_server("blobproxy", command, port, log_file=log_file)
    return BlobProxyProcess(process=child.process, name=child.name, port=port)


AGENT_LOG_LEVEL = "LOCALCLOUD_AGENT_LOG_LEVEL"
"""When set in our environment, the `LOG_LEVEL` of every agent started here (the tests set DEBUG, so their token
check sees what the clients log about headers and token responses)."""


def start_agent(cloud_env_file: Path, port: int, log_file: Path | None = None,
                extra_env: dict[str, str] | None = None) -> ChildProcess:
    """Run `python bot.py` on 127.0.0.1:`port` with the settings a local cloud wrote."""
    level = os.environ.get(AGENT_LOG_LEVEL)
    env = {"HOST": "127.0.0.1", "PORT": str(port), **({"LOG_LEVEL": level} if level else {}), **(extra_env or {})}
    return start_server("agent", [sys.executable, "bot.py", "--env-file", str(cloud_env_file)], port,
                        env=env, log_file=log_file)


def start_playground(agent_endpoint: str, port: int, workdir: Path) -> ChildProcess:
    """Run the Microsoft 365 Agents Playground headless, bound to loopback, talking to `agent_endpoint`.

    It writes its own logs under its working directory (`devTools/`), so it runs in `workdir`, beside ours.
    """
    cli = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
    if not cli.exists():
        raise FileNotFoundError("the Agents Playground is not installed: run `npm ci` (make does)")
    loopback_only = ROOT / "tools" / "loopback-only.cjs"
    return start_server(
        "playground",
        ["node", "--require", str(loopback_only), str(cli), "-e", agent_endpoint, "-c", "msteams", "-p", str(port),
         "--disable-telemetry"],
        port,
        env={"TEAMSAPPTESTER_BROWSER": "none"},
        cwd=workdir,
        log_file=workdir / "playground.log",
    )

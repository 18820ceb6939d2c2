"""`make demo`: the local cloud, the agent and the Agents Playground on loopback, ready to chat.

Everything is started as a child process and stopped by PID on Ctrl-C or SIGTERM, or when one of them stops on its
own: then the demo says which one, shows the last lines of its log, stops the rest and exits 1. `STORAGE=blob make demo`
keeps the agent's state in Azurite, as several instances would share it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections import deque
from pathlib import Path

from localcloud.launcher import (
    ROOT,
    ChildProcess,
    CloudProcess,
    free_port,
    start_agent,
    start_azurite,
    start_cloud,
    start_playground,
)
from localcloud.tenant import USERS, User

STATE = ROOT / ".localcloud"
WATCH_SECONDS = 0.5
LOG_LINES = 15
NAMES = {"localcloud": "The local cloud", "azurite": "Azurite", "agent": "The agent",
         "playground": "The Agents Playground"}


def log_of(state: Path, name: str) -> Path:
    """Where the child called `name` writes its output (the launcher names the Playground's log the same way)."""
    return state / f"{name}.log"


def _port(variable: str, default: int) -> int:
    wanted = int(os.environ.get(variable, default))
    return wanted if wanted else free_port()


def start_demo(state: Path, agent_port: int, playground_port: int, children: list[ChildProcess],
               storage: str = "memory") -> CloudProcess:
    """Start the cloud, the agent and the Playground, appending each to `children` as soon as it runs.

    With `storage="blob"` the agent keeps its state in Azurite (Azure Blob Storage on loopback, kept in `state`)."""
    state.mkdir(parents=True, exist_ok=True)
    agent_endpoint = f"http://127.0.0.1:{agent_port}/api/messages"
    print("Starting the local Microsoft cloud…", flush=True)
    cloud = start_cloud(state / "agent.env", agent_endpoint, log_file=log_of(state, "localcloud"))
    children.append(cloud)
    agent_env = {"STORAGE": storage}
    if storage == "blob":
        print("Starting Azurite for the agent's state…", flush=True)
        azurite = start_azurite(free_port(), location=state / "azurite", log_file=log_of(state, "azurite"))
        children.append(azurite)
        agent_env["AZURE_STORAGE_CONNECTION_STRING"] = azurite.connection_string
    print(f"Starting the agent on {agent_endpoint}…", flush=True)
    children.append(start_agent(cloud.env_file, agent_port, log_file=log_of(state, "agent"), extra_env=agent_env))
    print("Starting the Microsoft 365 Agents Playground…", flush=True)
    children.append(start_playground(agent_endpoint, playground_port, state))
    return cloud


def watch(children: list[ChildProcess], state: Path, stop: threading.Event) -> str | None:
    """Wait until `stop` is set (None) or a child exits on its own: then what happened to it, for the person."""
    while not stop.wait(WATCH_SECONDS):
        for child in children:
            if child.process.poll() is not None:
                return obituary(child, state)
    return None


def obituary(child: ChildProcess, state: Path) -> str:
    """`The agent stopped unexpectedly (exit status 1)`, and the last lines of its log."""
    status = child.process.returncode
    how = f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
    log = log_of(state, child.name)
    try:
        with log.open(errors="replace") as lines:
            tail = "".join(deque(lines, LOG_LINES)).rstrip() or "(empty)"
    except OSError:
        tail = "(no log)"
    shown = os.path.relpath(log) if log.is_relative_to(Path.cwd()) else str(log)
    indented = "\n".join(f"    {line}" for line in tail.splitlines())
    return (f"\n{NAMES.get(child.name, child.name)} (pid {child.pid}) stopped unexpectedly ({how}). "
            f"The last lines of {shown}:\n{indented}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description="Run the demo (what `make demo` does).")
    parser.add_argument("--state", type=Path, default=STATE,
                        help="folder for the logs and settings (default .localcloud)")
    state = parser.parse_args(argv).state.resolve()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    children: list[ChildProcess] = []
    playground_port = _port("PLAYGROUND_PORT", 56150)
    died = None
    try:
        cloud = start_demo(state, _port("PORT", 3978), playground_port, children,
                           storage=os.environ.get("STORAGE", "memory"))
        print(banner(playground_port, cloud.url, cloud.settings.get("EXTRA_CA_FILE")), flush=True)
        died = watch(children, state, stop)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:  # a child that failed to start, or npm ci missing
        died = f"\nmake demo: {error}. Its log is in {state}."
    finally:
        if died:
            print(died, file=sys.stderr, flush=True)
        print("\nStopping…", flush=True)
        for child in reversed(children):
            child.stop()
    return 1 if died else 0


def banner(playground_port: int, cloud_url: str, ca_file: str | None = None) -> str:
    users = "\n".join(
        f"    {user.display_name:<17} {user.user_principal_name:<32} {user.time_zone:<24} {_quirks(user)}".rstrip()
        for user in USERS
    )
    return f"""
Ready. Open the Microsoft 365 Agents Playground in a browser and chat with the agent:

    http://127.0.0.1:{playground_port}

Type "help" for what it does. To see a profile:
  1. Type "/me". The agent answers with a sign-in card.
  2. Press the card's "Sign in" button. The local sign-in page opens in a new tab. It is https, as Entra's is,
     with a certificate from the local cloud's own CA{f" ({ca_file})" if ca_file else ""}: your browser
     warns once; continue to 127.0.0.1 (or trust that CA).
  3. Pick a user (no password is needed) and press Accept. The page shows a 6-digit code.
  4. Type that code into the chat. The agent shows that user's profile card.
     (Type it in the chat box: the card's "Redeem code" button is the Playground's own and fails offline.)
Then "/calendar tomorrow" and "/files budget" answer without signing in again; "/logout" lets you pick another user.
Meetings are shown in the time zone of the user's mailbox (below), not the Playground's, which reports UTC.
The Playground chats as its own mock Teams user (Alex Wilber, top right); Microsoft 365 sees the user you pick.

Users on the sign-in page:

{users}

From a terminal, as Copilot Studio calls the agent (with the user's own token, so no sign-in):

    .venv/bin/python -m localcloud say --env-file .localcloud/agent.env --channel copilot --user adele "/me"

Control API of the local cloud: {cloud_url}/_localcloud/   Logs: .localcloud/*.log   Stop: Ctrl-C
"""


def _quirks(user: User) -> str:
    """What a user lacks, so a person knows which one shows an empty state."""
    missing = [label for label, absent in (
        ("no photo", not user.has_photo), ("no manager", user.manager is None),
        ("no job title", user.job_title is None), ("empty calendar", user.calendar_empty),
    ) if absent]
    return ", ".join(missing)


if __name__ == "__main__":
    sys.exit(main())

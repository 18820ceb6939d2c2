"""`make demo`: the local cloud, the agent and the Agents Playground on loopback, ready to chat.

Everything is started as a child process and stopped by PID on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from localcloud.launcher import (
    ROOT,
    ChildProcess,
    CloudProcess,
    free_port,
    start_agent,
    start_cloud,
    start_playground,
)
from localcloud.tenant import users_as_json

STATE = ROOT / ".localcloud"


def _port(variable: str, default: int) -> int:
    wanted = int(os.environ.get(variable, default))
    return wanted if wanted else free_port()


def start_demo(state: Path, agent_port: int, playground_port: int, children: list[ChildProcess]) -> CloudProcess:
    """Start the cloud, the agent and the Playground, appending each to `children` as soon as it runs."""
    state.mkdir(parents=True, exist_ok=True)
    agent_endpoint = f"http://127.0.0.1:{agent_port}/api/messages"
    print("Starting the local Microsoft cloud…", flush=True)
    cloud = start_cloud(state / "agent.env", agent_endpoint, log_file=state / "localcloud.log")
    children.append(cloud)
    print(f"Starting the agent on {agent_endpoint}…", flush=True)
    children.append(start_agent(cloud.env_file, agent_port, log_file=state / "agent.log"))
    print("Starting the Microsoft 365 Agents Playground…", flush=True)
    children.append(start_playground(agent_endpoint, playground_port, state))
    return cloud


def main() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    children: list[ChildProcess] = []
    playground_port = _port("PLAYGROUND_PORT", 56150)
    try:
        cloud = start_demo(STATE, _port("PORT", 3978), playground_port, children)
        print(_banner(playground_port, cloud.url), flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping…", flush=True)
        for child in reversed(children):
            child.stop()
    return 0


def _banner(playground_port: int, cloud_url: str) -> str:
    users = "\n".join(
        f"    {user['username']:<36} {user['password']:<18} {user['timeZone']}" for user in users_as_json()
    )
    return f"""
Ready. Open the Playground and chat with the agent:

    http://127.0.0.1:{playground_port}

Try "help", "/me", "/calendar tomorrow" or "/files budget". Signing in opens the local sign-in page:
pick a user, accept, and type the 6-digit code it shows into the chat. Demo users:

{users}

From a terminal: python -m localcloud say --env-file {Path('.localcloud/agent.env')} --channel teams --user adele "/me"
Control API of the local cloud: {cloud_url}/_localcloud/   Logs: .localcloud/*.log   Stop: Ctrl-C
"""


if __name__ == "__main__":
    sys.exit(main())

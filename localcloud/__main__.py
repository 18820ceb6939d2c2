"""Command line of the local cloud.

    python -m localcloud --env-file PATH      run every service until SIGTERM; the agent's settings go to PATH
    python -m localcloud users [--json]       the seeded users, their passwords, object ids and time zones
    python -m localcloud say --channel teams|copilot --user NAME "text"   talk to a running agent
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path

from .cloud import DEFAULT_AGENT_ENDPOINT, serve
from .tenant import users_as_json

try:
    # The cloud serves every agent of a benchmark and sits inside each turn's chain of calls, so its own CPU per turn
    # must stay well under an agent's, so a benchmark measures the agent: uvloop's is the cheaper loop
    # (`docs/performance.md`). The set-up installs it (the `dev` extra); an image with the agent's runtime
    # dependencies only runs the cloud on asyncio's loop.
    from uvloop import run as run_loop
except ImportError:
    from asyncio import run as run_loop


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description="A local Microsoft cloud on loopback.")
    parser.add_argument("--env-file", type=Path, help="where to write the agent's settings (dotenv lines)")
    parser.add_argument("--state-dir", type=Path, help="where to keep the CA and keys (default: a temporary folder)")
    parser.add_argument("--agent-endpoint", default=DEFAULT_AGENT_ENDPOINT, help="the agent's /api/messages URL")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--generated-users", type=int, default=0, metavar="N",
                        help="add N generated users for load tests (adele001, megan002, ...; default none)")
    commands = parser.add_subparsers(dest="command")
    users = commands.add_parser("users", help="list the seeded users")
    users.add_argument("--json", action="store_true", help="print JSON instead of a table")
    from .channels import add_say_arguments

    add_say_arguments(commands.add_parser("say", help="send a message to the agent as a channel would"))
    return parser


def _print_users(as_json: bool) -> None:
    users = users_as_json()
    if as_json:
        print(json.dumps(users, indent=2))
        return
    columns = ("username", "password", "timeZone", "objectId")
    widths = [max(len(col), *(len(str(user[col])) for user in users)) for col in columns]
    print("  ".join(col.ljust(width) for col, width in zip(columns, widths, strict=True)))
    for user in users:
        print("  ".join(str(user[col]).ljust(width) for col, width in zip(columns, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "users":
        _print_users(args.json)
        return 0
    if args.command == "say":
        from .channels import run_say

        return asyncio.run(run_say(args))
    if args.env_file is None:
        print("error: --env-file PATH is required to run the cloud", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="localcloud-") as scratch:
        state_dir = args.state_dir or Path(scratch)
        run_loop(serve(args.env_file.resolve(), state_dir.resolve(), args.agent_endpoint, args.generated_users))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make upgrade`: re-lock to the newest versions pyproject.toml's ranges allow (and the newest uv), run the tests on
them, and print what moved, so a person commits the new locks knowingly. Nothing is committed here.

    python -m tools.upgrade --uv .tools/bin/uv -- make test
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("uv.lock", "tools/uv-requirements.txt")
UV_REQUIREMENTS = "tools/uv-requirements.txt"


def locked_versions(lock_text: str) -> dict[str, str]:
    """Package name -> version, as uv.lock pins them (the project itself, which has no fixed version source, too)."""
    return {package["name"]: package["version"] for package in tomllib.loads(lock_text).get("package", [])
            if "version" in package}


def pinned_uv(requirements_text: str) -> dict[str, str]:
    """`uv==X` from tools/uv-requirements.txt, as {'uv': 'X'}."""
    return {name.strip(): version.split()[0] for line in requirements_text.splitlines()
            if "==" in line and not line.lstrip().startswith("#") for name, version in [line.split("==", 1)]}


def moves(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per package whose version changed, came or went: `name old -> new` (a dash for none)."""
    return [f"{name} {before.get(name, '-')} -> {after.get(name, '-')}"
            for name in sorted(before.keys() | after.keys()) if before.get(name) != after.get(name)]


def run(command: list[str]) -> int:
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def relock(uv: str) -> bool:
    """uv.lock to the newest allowed versions, and tools/uv-requirements.txt to the newest uv, with every hash."""
    if run([uv, "lock", "--upgrade"]) != 0:
        return False
    print(f"$ {uv} pip compile --upgrade ... -o {UV_REQUIREMENTS}", flush=True)
    return subprocess.run([uv, "pip", "compile", "--quiet", "--upgrade", "--universal", "--generate-hashes",
                           "--no-header", "--output-file", UV_REQUIREMENTS, "-"], input="uv\n", text=True,
                          cwd=ROOT).returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uv", default="uv", help="the uv to re-lock with")
    parser.add_argument("test_command", nargs="+", help="what to run on the new tree (after --)")
    args = parser.parse_args(argv)

    before = {**locked_versions((ROOT / "uv.lock").read_text()), **pinned_uv((ROOT / UV_REQUIREMENTS).read_text())}
    if not relock(args.uv):
        print("\nThe re-lock failed; nothing was tested.", file=sys.stderr)
        return 1
    after = {**locked_versions((ROOT / "uv.lock").read_text()), **pinned_uv((ROOT / UV_REQUIREMENTS).read_text())}
    tested = run(args.test_command)

    moved = moves(before, after)
    print(f"\n{len(moved)} package(s) moved:" if moved else "\nNothing moved: every package is at its newest allowed.")
    for line in moved:
        print(f"  {line}")
    if tested == 0:
        print(f"\n`{' '.join(args.test_command)}` passed on the new tree: review `git diff {' '.join(LOCKS)}` and "
              "commit it.")
    else:
        print(f"\n`{' '.join(args.test_command)}` FAILED on the new tree (exit {tested}): fix the code, narrow a range "
              f"in pyproject.toml, or go back with `git checkout {' '.join(LOCKS)}`.")
    return tested


if __name__ == "__main__":
    sys.exit(main())

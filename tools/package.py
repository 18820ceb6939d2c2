"""`make package`: the Teams app package, `dist/appPackage.zip`, from `appPackage/` and the agent's settings.

    python -m tools.package [--env-file .env] [--out dist/appPackage.zip]

Settings are read as the agent reads them (the environment wins over the env file), and the command menu of chats and
channels is made from the agent's commands (`skills/catalog.py`). The filled manifest is checked
against the official schema from npm `@microsoft/app-manifest` (its `copilotAgents` section declares the agent to
Microsoft 365 Copilot as a custom engine agent) before anything is written; the icons are drawn here, so no binary
file lives in git.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import sys
import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from jsonschema import Draft4Validator, Draft6Validator, FormatChecker
from jsonschema.validators import extend

from auth.cloud import CloudConfigurationError, cloud_from_settings
from cards.png import Rgba, encode_png
from skills.catalog import COMMANDS, CommandRecord

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "appPackage" / "manifest.template.json"
SCHEMAS = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
CLIENTID_KEY = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
COLOR_SIZE = 192
OUTLINE_SIZE = 32

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PLACEHOLDER = re.compile(r"\$\{\{(\w+)\}\}")
# The schemas declare draft-04 but use draft-06's `const` (manifestVersion); ajv, which Microsoft's tools validate
# with, checks it, so we do too.
_TeamsSchemaValidator = extend(Draft4Validator, {"const": Draft6Validator.VALIDATORS["const"]})


class PackageError(Exception):
    """A setting or file the user must fix; the message says which and how."""


def load_settings(env_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The env file overlaid by the environment, as `load_dotenv` leaves it for the agent."""
    from_file = {key: value for key, value in dotenv_values(env_file).items() if value is not None}
    return {**from_file, **environ}


def fill_manifest(settings: Mapping[str, str], commands: Sequence[CommandRecord] = COMMANDS) -> dict[str, Any]:
    """The template with the app id, the project version, the cloud's token service host and the command menu filled
    in."""
    client_id = settings.get(CLIENTID_KEY, "").strip()
    if not client_id:
        raise PackageError(f"{CLIENTID_KEY} is not set: put the agent's app registration (bot) id in .env or the "
                           "environment; the manifest's id, botId and webApplicationInfo are made from it.")
    if not _GUID.match(client_id):
        raise PackageError(f"{CLIENTID_KEY} must be the app registration's client id, a GUID; got {client_id!r}.")
    try:
        cloud = cloud_from_settings(settings)
    except CloudConfigurationError as error:
        raise PackageError(str(error)) from error
    values = {
        "CLIENTID": client_id,
        "VERSION": project_version(),
        "TOKEN_SERVICE_HOST": urlsplit(cloud.token_service_endpoint).netloc,
    }

    def fill(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise PackageError(f"{TEMPLATE.name} names ${{{{{match[1]}}}}}; only {', '.join(values)} are filled.")
        return json.dumps(values[match[1]])[1:-1]

    manifest = json.loads(_PLACEHOLDER.sub(fill, TEMPLATE.read_text(encoding="utf-8")))
    manifest["validDomains"] = list(dict.fromkeys(manifest["validDomains"]))  # public's hosts may repeat
    for listing in manifest["bots"][0]["commandLists"]:
        if "personal" in listing["scopes"]:
            listing["commands"] = [{"title": record.command, "description": record.menu or record.help,
                                    "type": "prompt", "prompt": record.command} for record in commands]
    return manifest


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def schema_errors(manifest: Mapping[str, Any]) -> list[str]:
    """Every way `manifest` breaks the official schema of its `manifestVersion`, as `path: message` lines."""
    path = SCHEMAS / f"v{manifest.get('manifestVersion')}" / "MicrosoftTeams.schema.json"
    if not path.is_file():
        raise PackageError(f"No Teams schema at {path.relative_to(ROOT)}: run `make setup` (npm ci) to install "
                           "@microsoft/app-manifest, or use a manifestVersion it ships.")
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    validator = _TeamsSchemaValidator(schema, format_checker=FormatChecker())
    return sorted(f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"
                  for error in validator.iter_errors(manifest))


def copilot_agent_errors(manifest: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say about `copilotAgents.customEngineAgents`: a `bot` agent's id must be a bot of this
    app with the personal scope ("root copilot agents custom engine agents",
    https://learn.microsoft.com/microsoft-365/extensibility/schema/root-copilot-agents-custom-engine-agents)."""
    bots = {bot.get("botId"): bot for bot in manifest.get("bots", [])}
    agents = manifest.get("copilotAgents", {}).get("customEngineAgents", [])
    return [f"/copilotAgents/customEngineAgents/{index}/id: {agent.get('id')} is not a bot of this app with the "
            "personal scope" for index, agent in enumerate(agents)
            if agent.get("type") == "bot" and "personal" not in bots.get(agent.get("id"), {}).get("scopes", [])]


def starter_errors(manifest: Mapping[str, Any]) -> list[str]:
    """Each bot command must be a prompt starter in the form every page accepts. The newest page asks for `"type":
    "prompt"` and the `prompt` text put in the compose box ("Highlight agent capabilities with prompt starters",
    https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/prompt-starters); older pages, and
    the schema, for a `title` (put in the compose box) and a `description` ("Create prompt suggestions",
    https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/prompt-suggestions; "root bots
    command lists", https://learn.microsoft.com/microsoft-365/extensibility/schema/root-bots-command-lists). With all
    four, and the prompt the title, a client on either reading shows and sends the same words."""
    return [f"/bots/{bot}/commandLists/{listing}/commands/{index}: {command.get('title')!r} needs a description, "
            "type 'prompt' and its title as the prompt"
            for bot, entry in enumerate(manifest.get("bots", []))
            for listing, commands in enumerate(entry.get("commandLists", []))
            for index, command in enumerate(commands.get("commands", []))
            if not command.get("description") or command.get("type") != "prompt"
            or command.get("prompt") != command.get("title")]


def build_package(settings: Mapping[str, str], out: Path) -> Path:
    """Fill, validate and zip the manifest with its two icons at the zip's root."""
    manifest = fill_manifest(settings)
    errors = schema_errors(manifest) + copilot_agent_errors(manifest) + starter_errors(manifest)
    if errors:
        raise PackageError(f"The manifest breaks the Teams v{manifest['manifestVersion']} schema:\n  "
                           + "\n  ".join(errors))
    icons = manifest["icons"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        archive.writestr(icons["color"], color_icon(manifest["accentColor"]))
        archive.writestr(icons["outline"], outline_icon())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return out


# ── Icons: a small graph (three nodes, three edges), drawn from its signed distance so the edges are anti-aliased ──

_NODES = ((0.24, 0.30), (0.76, 0.24), (0.50, 0.78))
_NODE_RADIUS = 0.13
_EDGE_WIDTH = 0.09


def color_icon(accent: str) -> bytes:
    """192×192, the white graph on the accent colour, fully opaque."""
    background = tuple(int(accent[i:i + 2], 16) for i in (1, 3, 5))

    def pixel(x: int, y: int) -> Rgba:
        ink = _coverage(COLOR_SIZE, x, y, margin=0.22)
        red, green, blue = (round(channel + (255 - channel) * ink) for channel in background)
        return red, green, blue, 255

    return encode_png(COLOR_SIZE, COLOR_SIZE, pixel)


def outline_icon() -> bytes:
    """32×32, the graph in white on transparent: Teams tints it, so only alpha may vary."""
    return encode_png(OUTLINE_SIZE, OUTLINE_SIZE,
                      lambda x, y: (255, 255, 255, round(255 * _coverage(OUTLINE_SIZE, x, y, margin=0.02))))


def _coverage(size: int, x: int, y: int, margin: float) -> float:
    """How much of pixel (x, y) the glyph covers, the glyph filling the square less `margin` on each side."""
    scale = size * (1 - 2 * margin)
    point = (((x + 0.5) - size * margin) / scale, ((y + 0.5) - size * margin) / scale)
    nodes = min(math.dist(point, node) for node in _NODES) - _NODE_RADIUS
    edges = min(_segment_distance(point, _NODES[i], _NODES[(i + 1) % 3]) for i in range(3)) - _EDGE_WIDTH / 2
    return min(1.0, max(0.0, 0.5 - min(nodes, edges) * scale))


def _segment_distance(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (px, py), (ax, ay), (bx, by) = point, a, b
    t = max(0.0, min(1.0, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
    return math.dist(point, (ax + t * (bx - ax), ay + t * (by - ay)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.package", description="Build the Teams app package.")
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="dotenv file to read (default .env)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "appPackage.zip", help="the zip to write")
    args = parser.parse_args(argv)
    try:
        out = build_package(load_settings(args.env_file, os.environ), args.out)
    except PackageError as error:
        print(f"make package: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make package`: the Teams app zip validates against Microsoft's schema, has icons of the sizes Teams requires,
lists the agent's own commands as prompt starters, and fails plainly without an app id."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from auth.cloud import OVERRIDE_KEYS
from skills.catalog import COMMANDS
from tools.package import (
    CLIENTID_KEY,
    ROOT,
    PackageError,
    copilot_agent_errors,
    fill_manifest,
    load_settings,
    project_version,
    schema_errors,
    starter_errors,
)

APP_ID = "3f2c6b1e-8d4a-4c7e-9b25-6a1d0e7f4c93"


def run_package(env_file: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`python -m tools.package` as `make package` runs it, with none of this process's agent settings."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("CONNECTIONS__") and key not in {"AGENT_CLOUD", *OVERRIDE_KEYS}}
    return subprocess.run([sys.executable, "-m", "tools.package", "--env-file", str(env_file), "--out", str(out)],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    folder = tmp_path_factory.mktemp("package")
    env_file = folder / ".env"
    env_file.write_text(f"{CLIENTID_KEY}={APP_ID}\nAGENT_CLOUD=public\n")
    result = run_package(env_file, folder / "appPackage.zip")
    assert result.returncode == 0, result.stderr
    return zipfile.ZipFile(folder / "appPackage.zip")


@pytest.fixture(scope="module")
def manifest(package: zipfile.ZipFile) -> dict[str, Any]:
    return json.loads(package.read("manifest.json"))


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG, every chunk's CRC checked and every row filter undone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, header, compressed = 8, b"", b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        assert struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0] == zlib.crc32(kind + body)
        header = body if kind == b"IHDR" else header
        compressed += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert (depth, colour_type) == (8, 6), "8-bit RGBA"
    raw, stride, rows = zlib.decompress(compressed), width * 4, []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left, up, up_left = (row[i - 4] if i >= 4 else 0), previous[i], (previous[i - 4] if i >= 4 else 0)
            guess = left + up - up_left
            paeth = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - up_left), 2, up_left))[2]
            row[i] = (row[i] + (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF
        previous = bytes(row)
        rows.append(previous)
    return width, height, rows


def pixels(rows: list[bytes]) -> list[tuple[int, ...]]:
    return [tuple(row[i:i + 4]) for row in rows for i in range(0, len(row), 4)]


def test_zip_holds_manifest_and_icons_at_its_root(package: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    assert sorted(package.namelist()) == sorted(["manifest.json", manifest["icons"]["color"],
                                                 manifest["icons"]["outline"]])


def test_manifest_validates_against_the_official_schema(manifest: dict[str, Any]) -> None:
    assert schema_errors(manifest) == []


def test_schema_check_reports_each_broken_field(manifest: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(manifest))
    broken["accentColor"] = "blue"
    broken["bots"][0]["botId"] = "my-bot"
    errors = schema_errors(broken)
    assert [error.split(":")[0] for error in errors] == ["/accentColor", "/bots/0/botId"]


def test_manifest_is_filled_from_the_settings(manifest: dict[str, Any]) -> None:
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://botid-{APP_ID}"}
    assert manifest["version"] == project_version()
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat", "copilot"]
    assert manifest["validDomains"] == ["token.botframework.com", "api.botframework.com"]


def test_manifest_lists_the_agents_commands_in_teams(manifest: dict[str, Any]) -> None:
    (command_list,) = [listing for listing in manifest["bots"][0]["commandLists"] if "personal" in listing["scopes"]]
    assert [command["title"] for command in command_list["commands"]] == [entry.command for entry in COMMANDS]
    assert all(command["description"] for command in command_list["commands"])
    assert command_list["scopes"] == ["personal", "team", "groupChat"]


def test_manifest_declares_the_agent_to_microsoft_365_copilot_as_a_custom_engine_agent(
    manifest: dict[str, Any],
) -> None:
    assert manifest["copilotAgents"] == {"customEngineAgents": [{"id": APP_ID, "type": "bot"}]}
    assert schema_errors(manifest) == [] and copilot_agent_errors(manifest) == []


def test_copilot_offers_conversation_starters_for_the_three_commands(manifest: dict[str, Any]) -> None:
    (starters,) = [listing for listing in manifest["bots"][0]["commandLists"] if listing["scopes"] == ["copilot"]]
    assert len(starters["commands"]) == 3 and all(command["description"] for command in starters["commands"])


def test_every_command_is_a_prompt_starter_in_the_form_every_page_accepts(manifest: dict[str, Any]) -> None:
    commands = [command for listing in manifest["bots"][0]["commandLists"] for command in listing["commands"]]

    assert all(set(command) == {"title", "description", "type", "prompt"} for command in commands)
    assert all(command["type"] == "prompt" and command["prompt"] == command["title"] for command in commands)
    assert starter_errors(manifest) == [] and schema_errors(manifest) == []


def test_a_starter_with_a_title_alone_is_refused(manifest: dict[str, Any]) -> None:
    """The older pages' form: the newest page's clients want the prompt."""
    older = json.loads(json.dumps(manifest))
    command = older["bots"][0]["commandLists"][0]["commands"][0]
    del command["type"], command["prompt"]

    assert schema_errors(older) == []
    assert [error.split(":")[0] for error in starter_errors(older)] == ["/bots/0/commandLists/0/commands/0"]


def test_the_schema_checks_a_starters_type(manifest: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(manifest))
    broken["bots"][0]["commandLists"][0]["commands"][0]["type"] = "starter"

    assert [error.split(":")[0] for error in schema_errors(broken)] == ["/bots/0/commandLists/0/commands/0/type"]


def test_a_custom_engine_agent_that_is_no_personal_bot_of_the_app_is_refused(manifest: dict[str, Any]) -> None:
    elsewhere = json.loads(json.dumps(manifest))
    elsewhere["copilotAgents"]["customEngineAgents"][0]["id"] = "5a2c6b1e-8d4a-4c7e-9b25-6a1d0e7f4c94"
    team_only = json.loads(json.dumps(manifest))
    team_only["bots"][0]["scopes"] = ["team"]
    where = "/copilotAgents/customEngineAgents/0/id"
    assert [error.split(":")[0] for error in copilot_agent_errors(elsewhere)] == [where]
    assert [error.split(":")[0] for error in copilot_agent_errors(team_only)] == [where]


def test_the_schema_refuses_a_custom_engine_agent_section_it_does_not_know(manifest: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(manifest))
    broken["copilotAgents"]["customEngineAgents"][0]["type"] = "model"
    assert [error.split(":")[0] for error in schema_errors(broken)] == ["/copilotAgents/customEngineAgents/0/type"]


def test_valid_domains_name_the_configured_clouds_token_service() -> None:
    manifest = fill_manifest({CLIENTID_KEY: APP_ID, "AGENT_CLOUD": "usgov"})
    assert manifest["validDomains"] == ["token.botframework.com", "tokengcch.botframework.azure.us"]


def test_color_icon_is_192_square_and_opaque(package: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    width, height, rows = decode_png(package.read(manifest["icons"]["color"]))
    assert (width, height) == (192, 192)
    colours = pixels(rows)
    assert all(alpha == 255 for *_, alpha in colours)
    assert len(set(colours)) > 2, "the glyph is drawn on the accent colour"


def test_outline_icon_is_32_square_white_on_transparent(package: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    width, height, rows = decode_png(package.read(manifest["icons"]["outline"]))
    assert (width, height) == (32, 32)
    colours = pixels(rows)
    assert all((red, green, blue) == (255, 255, 255) for red, green, blue, _ in colours)
    alphas = {alpha for *_, alpha in colours}
    assert 0 in alphas and 255 in alphas


def test_missing_clientid_fails_naming_the_key(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("AGENT_CLOUD=public\n")
    result = run_package(env_file, tmp_path / "appPackage.zip")
    assert result.returncode == 1
    assert f"{CLIENTID_KEY} is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


def test_clientid_that_is_no_guid_is_refused() -> None:
    with pytest.raises(PackageError, match=f"{CLIENTID_KEY} must be .* a GUID"):
        fill_manifest({CLIENTID_KEY: "my-bot"})


def test_unknown_cloud_is_refused_with_the_clouds_message() -> None:
    with pytest.raises(PackageError, match="AGENT_CLOUD='mars' is not a cloud"):
        fill_manifest({CLIENTID_KEY: APP_ID, "AGENT_CLOUD": "mars"})


def test_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"{CLIENTID_KEY}=from-file\nAGENT_CLOUD=china\n")
    settings = load_settings(env_file, {CLIENTID_KEY: APP_ID})
    assert (settings[CLIENTID_KEY], settings["AGENT_CLOUD"]) == (APP_ID, "china")

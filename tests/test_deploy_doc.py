"""docs/deploy.md, the way from the demo to a real tenant: its links hold, every setting it names is documented in
.env.example, and `bot.py doctor --explain` points into it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.doctor import CHECKLIST, DEPLOY_DOC, run
from localcloud.tenant import Directory

ROOT = Path(__file__).parents[1]
DOC = ROOT / DEPLOY_DOC
SETTING = re.compile(r"`([A-Z][A-Z0-9]*(?:_{1,2}[A-Z0-9]+)*)`")
"""A backticked name in capitals, as the doc writes a setting (`STORAGE`, `CONNECTIONS__…__CLIENTID`)."""
NOT_SETTINGS = {"WEBSITES_PORT", "MANIFEST_ENDPOINT_ORIGIN_MISMATCH"}
"""Capitalised names in the doc that are not the agent's settings: App Service's, and a Copilot Studio error code."""


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def documented_settings() -> set[str]:
    """Every key .env.example sets or shows commented out (`# KEY=`)."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return {match.group(1) for line in lines if (match := re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line))}


def explained() -> str:
    out = io.StringIO()
    run(ROOT / ".env.example", {}, out, explain=True)
    return out.getvalue()


def test_every_setting_the_deployment_guide_names_is_documented_in_env_example() -> None:
    """A whole key must be in .env.example; a short name (`CLIENTID`, `SERVICE_CONNECTION`) must be a part of one."""
    named = set(SETTING.findall(DOC.read_text(encoding="utf-8"))) - NOT_SETTINGS
    keys = documented_settings()
    parts = {part for key in keys for part in key.split("__")}
    assert any("__" in name for name in named)
    assert sorted(name for name in named if name not in (keys if "__" in name else keys | parts)) == []


def test_every_link_inside_the_deployment_guide_reaches_a_heading_or_a_file() -> None:
    text = DOC.read_text(encoding="utf-8")
    targets = re.findall(r"\]\((?!https?://)([^)]+)\)", text)
    assert targets
    for target in targets:
        path, _, anchor = target.partition("#")
        file = (DOC.parent / path).resolve() if path else DOC
        assert file.exists(), target
        if anchor:
            assert anchor in anchors(file.read_text(encoding="utf-8")), target


def test_the_guide_cites_microsoft_learn_for_every_step() -> None:
    sections = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    steps = [section for section in sections if re.match(r"\d+\. ", section) and not section.startswith("10.")]
    assert len(steps) == 9
    assert [section.splitlines()[0] for section in steps if "https://learn.microsoft.com/" not in section] == []


def test_doctor_explain_prints_a_checklist_whose_links_reach_the_guides_headings() -> None:
    links = re.findall(rf"{re.escape(DEPLOY_DOC)}#([\w-]+)", explained())

    assert links == [step.anchor for step in CHECKLIST]
    assert set(links) <= anchors(DOC.read_text(encoding="utf-8"))


def test_doctor_explain_marks_the_step_whose_setting_is_wrong() -> None:
    lines = explained().splitlines()
    marked = {line.split("]", 1)[1].strip().split(".", 1)[0]: line.split("]")[0].strip("[ ")
              for line in lines if re.match(r"\s+\[", line)}

    # .env.example's placeholders: no client id, tenant or secret yet; the OAuth connection's name is set.
    assert (marked["1"], marked["2"], marked["3"], marked["6"]) == ("fix", "fix", "portal", "env ok")


@pytest.mark.parametrize("argv", [["doctor", "--explain"], ["--explain", "doctor"]])
def test_bot_doctor_explain_runs_from_the_command_line(argv: list[str], tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "bot.py", *argv, "--env-file", str(ROOT / ".env.example")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})

    assert done.returncode == 1 and f"Deployment checklist ({DEPLOY_DOC})" in done.stdout


def test_explain_without_doctor_is_refused() -> None:
    done = subprocess.run([sys.executable, "bot.py", "--explain"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 2 and "--explain goes with doctor" in done.stderr


def section(number: str) -> str:
    """The text of the guide's step `number` (or of a named section), up to the next heading of its level."""
    text = DOC.read_text(encoding="utf-8")
    start = re.search(rf"^## {re.escape(number)}", text, flags=re.MULTILINE)
    assert start, number
    end = re.search(r"^## ", text[start.end():], flags=re.MULTILINE)
    return text[start.start():start.end() + end.start() if end else len(text)]


def test_the_guide_pre_authorizes_exactly_the_clients_the_local_cloud_pre_authorizes() -> None:
    """Teams, Microsoft 365 (and its Copilot) and Outlook each sign in silently only as a pre-authorized client."""
    listed = set(re.findall(r"`([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`", section("3.")))

    assert listed == set(Directory.create().agent.pre_authorized_clients)


def test_the_guide_has_the_admin_grant_the_permissions_including_the_sign_in_scopes() -> None:
    step = section("4.")

    assert "/adminconsent?client_id={CLIENTID}" in step
    assert all(f"`{scope}`" in step for scope in ("openid", "profile", "offline_access", "Files.Read.All"))
    assert "openid profile offline_access" in section("6.")


def test_the_guide_gives_the_federated_oauth_connection_its_own_credential_and_fields() -> None:
    step = section("6.")

    assert "AAD v2 with Federated Credentials" in step and "Unique Identifier" in step
    assert "/eid1/c/pub/t/" in step and "api://AzureADTokenExchange" in step
    assert "CLIENTSECRET" not in step


def test_the_guide_opens_the_skill_to_its_copilot_studio_agent_and_matches_its_home_page() -> None:
    assert "Home page URL" in section("1.") and "MANIFEST_ENDPOINT_ORIGIN_MISMATCH" in section("1.")
    assert all(key in section("8.") for key in ("SKILL_ALLOWED_CALLERS", "COPILOT_STUDIO_REPLY_HOSTS"))


def test_the_guide_sets_replicas_and_keeps_state_in_blob_storage_without_a_key() -> None:
    step = section("9.")

    assert "min replicas 1" in step and "Storage Blob Data Contributor" in step
    assert "`AZURE_STORAGE_ACCOUNT_URL=https://{account}.blob.core.windows.net`" in step


def test_the_guide_has_a_copilot_studio_only_route_without_an_azure_bot() -> None:
    route = section("Copilot Studio only")

    assert "https://github.com/microsoft/Agents/issues/219" in route
    assert all(f"step {number}" in route for number in (5, 6, 7))
    assert "copilot-studio-only" in anchors(DOC.read_text(encoding="utf-8"))


def test_doctor_explain_names_the_settings_of_each_step() -> None:
    lines = explained().splitlines()
    settings = " ".join(line for line in lines if line.strip().startswith("settings:") or line.startswith(" " * 23))

    assert all(key.rstrip("_") in settings for step in CHECKLIST for key in step.keys)

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

ROOT = Path(__file__).parents[1]
DOC = ROOT / DEPLOY_DOC
SETTING = re.compile(r"`([A-Z][A-Z0-9]*(?:_{1,2}[A-Z0-9]+)*)`")
"""A backticked name in capitals, as the doc writes a setting (`STORAGE`, `CONNECTIONS__…__CLIENTID`)."""
NOT_SETTINGS = {"WEBSITES_PORT"}
"""Capitalised names in the doc that are App Service's settings, not the agent's."""


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

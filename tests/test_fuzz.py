"""The fuzzer: generated activities (`tests/fuzz.py`) sent with genuine channel credentials to the agent in its own
process on the local cloud. No 5xx but the 501 the protocol gives an invoke the agent does not implement, no
traceback or unclosed session in the agent's log, and memory and open descriptors flat once warmed up.

`FUZZ_CASES` (default 1,000) and `FUZZ_SEED` choose the run; `make soak` sends 12,000.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from localcloud.channels import teams_user_id
from localcloud.client import LocalCloudClient, LocalCloudError
from localcloud.launcher import ChildProcess, CloudProcess, free_port, start_agent
from localcloud.tenant import USERS
from tests.fuzz import ACTIVITY_TYPES, INVOKE_NAMES, SIGN_IN_INVOKES, Case, FuzzUser, Generator, Target
from tests.support import sign_in

CASES = int(os.environ.get("FUZZ_CASES", "1000"))
SEED = int(os.environ.get("FUZZ_SEED", "7"))
CONCURRENCY = 8
WARM_UP = max(200, CASES // 5)
"""Cases sent before memory and descriptors are first measured: the first of each kind imports and caches code, and
the first huge bodies raise the allocator's high-water mark (RSS then steps up a few times and levels off)."""
RSS_SLACK_MB = 24
"""How much the agent's resident memory may grow after the warm-up, whatever the number of cases: bounded caches
still filling (the README says which, and what a run measured)."""
FD_SLACK = 8
"""How many more descriptors may be open at the end than after the warm-up (pooled connections come and go)."""
TURN_SECONDS = 15
"""Bot Service gives a turn 15 s; the slowest answers here are a few seconds on a busy machine."""
SIGNED_IN = "patti"
SIGN_IN_STATUSES = {"signin/verifyState": {200, 400, 404}, "signin/tokenExchange": {200, 400, 412},
                    "signin/failure": {200}}
REQUIRED = {"teams": ("type", "serviceUrl", "channelId", "conversation", "conversation.id", "recipient",
                      "recipient.id", "from", "from.id"),
            "copilot": ("type", "serviceUrl", "channelId", "conversation", "conversation.id", "recipient",
                        "recipient.id")}
"""Fields without which the ingress refuses an activity (400); on the connector the token's user becomes `from`."""
LOG_PROBLEMS = ("Traceback", '"exception":', "Unclosed client session", "Unclosed connector", "turn failed")


@dataclass(frozen=True)
class Footprint:
    rss_mb: float
    descriptors: int

    @classmethod
    def of(cls, pid: int) -> Footprint:
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return cls(rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd")))


@dataclass(frozen=True)
class Answer:
    case: Case
    status: int
    """The agent's HTTP status; 504 when it did not answer the channel within the channel's minute."""
    seconds: float


@dataclass
class FuzzRun:
    answers: list[Answer]
    footprints: list[Footprint]
    """After the warm-up, then after each further tenth of the cases."""
    seconds: float
    log: str

    @property
    def warm(self) -> Footprint:
        return self.footprints[0]


def _target(cloud: CloudProcess) -> Target:
    users = tuple(FuzzUser(user.username, teams_user_id(user), user.id, user.display_name)
                  for user in USERS)
    settings = cloud.settings
    return Target(channels_url=cloud.url, agent_id=settings["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"],
                  tenant_id=settings["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID"], users=users,
                  signed_in=SIGNED_IN)


@pytest.fixture(scope="module")
def fuzzed_agent(cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChildProcess, Path,
                                                                                                   str]]:
    """An agent of its own, so its log and its memory are the fuzzer's alone."""
    port = free_port()
    log_file = tmp_path_factory.mktemp("fuzz") / "agent-fuzz.log"
    process = start_agent(cloud.env_file, port, log_file=log_file)
    try:
        yield process, log_file, f"http://127.0.0.1:{port}"
    finally:
        process.stop()


async def _ready(base_url: str) -> None:
    """Until `/readyz` says the Graph warm-up is done, so its one-off cost is not counted as growth."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            async with http.get(f"{base_url}/readyz") as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError("the agent did not become ready")


async def _send_all(client: LocalCloudClient, endpoint: str, cases: list[Case]) -> list[Answer]:
    """Each user's cases in order, users side by side, at most CONCURRENCY at once."""
    by_user: dict[str, list[Case]] = {}
    for case in cases:
        by_user.setdefault(case.user, []).append(case)
    gate = asyncio.Semaphore(CONCURRENCY)
    answers: list[Answer] = []

    async def send(queue: list[Case]) -> None:
        for case in queue:
            async with gate:
                started = time.monotonic()
                try:
                    status = (await client.raw(case.channel, case.user, agent_endpoint=endpoint,
                                               **case.request())).status
                except LocalCloudError as error:  # the channel gave up on the agent
                    status = error.status
                answers.append(Answer(case, status, time.monotonic() - started))

    await asyncio.gather(*(send(queue) for queue in by_user.values()))
    return sorted(answers, key=lambda answer: answer.case.number)


@pytest.fixture(scope="module")
async def fuzz_run(cloud: CloudProcess, fuzzed_agent: tuple[ChildProcess, Path, str]) -> FuzzRun:
    process, log_file, base_url = fuzzed_agent
    endpoint = f"{base_url}/api/messages"
    cases = list(Generator(_target(cloud), SEED).cases(CASES))
    await _ready(base_url)
    async with LocalCloudClient(cloud.url) as client:
        signed_in: list[str] = []
        await sign_in(client, endpoint, SIGNED_IN, signed_in)
        started = time.monotonic()
        answers = await _send_all(client, endpoint, cases[:WARM_UP])
        footprints = [Footprint.of(process.pid)]
        tenth = max(1, (len(cases) - WARM_UP) // 10)
        for start in range(WARM_UP, len(cases), tenth):
            answers += await _send_all(client, endpoint, cases[start:start + tenth])
            await asyncio.sleep(0.5)  # the SDK's replays after a sign-in run in the background
            footprints.append(Footprint.of(process.pid))
        seconds = time.monotonic() - started
        await client.teams(SIGNED_IN, "/logout", agent_endpoint=endpoint)
    statuses = Counter(answer.status for answer in answers)
    print(f"\nfuzz: {len(answers)} cases (seed {SEED}) in {seconds:.0f} s; statuses {dict(sorted(statuses.items()))}; "
          f"after the first {WARM_UP}, then each tenth: RSS MB {[round(f.rss_mb) for f in footprints]}, "
          f"descriptors {[f.descriptors for f in footprints]}")
    return FuzzRun(answers, footprints, seconds, log_file.read_text(errors="replace"))


def _invoke_name(case: Case) -> Any:
    body = case.body
    return body.get("name") if isinstance(body, dict) and body.get("type") == "invoke" else None


def _allows_501(case: Case) -> bool:
    """The protocol's answer to an invoke the agent does not implement (the SDK's `ActivityHandler` gives 501)."""
    return isinstance(case.body, dict) and case.body.get("type") == "invoke" and _invoke_name(case) not in \
        SIGN_IN_INVOKES


def _expected(case: Case) -> set[int] | None:
    """The statuses an unchanged activity may get, and the 400 of a body the ingress refuses; None where only "no 5xx
    but a protocol 501" is asserted."""
    if case.raw is not None:
        return {400, 413}
    if case.mutated:
        refused = any(case.kind.endswith(f", {field} deleted") for field in REQUIRED[case.channel]) or \
            " nested " in case.kind
        return {400} if refused else None
    body = case.body
    streamed_or_replied = body.get("deliveryMode") in ("expectReplies", "stream")
    if streamed_or_replied:
        return {200}
    name = _invoke_name(case)
    if name in SIGN_IN_STATUSES:
        return SIGN_IN_STATUSES[name]
    if body.get("type") == "invoke":
        return {501}
    return {202}


def _problem_lines(log: str) -> list[str]:
    """Where the first problems in the log come from: logger and last line of the exception, never the values."""
    found = []
    for line in log.splitlines():
        if not any(problem in line for problem in LOG_PROBLEMS):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            found.append(line[:120])
        else:
            found.append(f"{entry['logger']}: {(entry.get('exception') or entry['message']).splitlines()[-1][:120]}")
        if len(found) == 3:
            break
    return found


def _summary(answers: list[Answer]) -> str:
    """The commonest status and kind pairs, each with its first case's number (re-run it with the same seed)."""
    first: dict[str, int] = {}
    kinds: Counter[str] = Counter()
    for answer in answers:
        label = f"{answer.status} for {answer.case.kind}"
        kinds[label] += 1
        first.setdefault(label, answer.case.number)
    return "; ".join(f"{count} x {label} (first: case {first[label]})" for label, count in kinds.most_common(20))


def test_the_cases_cover_every_activity_type_invoke_name_and_both_channels(cloud: CloudProcess) -> None:
    cases = list(Generator(_target(cloud), SEED).cases(CASES))

    bodies = [case.body for case in cases if isinstance(case.body, dict)]
    assert {body["type"] for body in bodies if isinstance(body.get("type"), str)} >= set(ACTIVITY_TYPES)
    assert {body["name"] for body in bodies if body.get("type") == "invoke" and isinstance(body.get("name"), str)} \
        >= set(INVOKE_NAMES)
    assert {case.channel for case in cases} == {"teams", "copilot"}
    assert sum(case.raw is not None for case in cases) >= CASES // 50


def test_the_same_seed_gives_the_same_cases(cloud: CloudProcess) -> None:
    first, second = (list(Generator(_target(cloud), SEED).cases(50)) for _ in range(2))

    assert first == second


def test_no_answer_is_a_5xx_but_the_501_for_an_invoke_the_agent_does_not_implement(fuzz_run: FuzzRun) -> None:
    server_errors = [answer for answer in fuzz_run.answers
                     if answer.status >= 500 and not (answer.status == 501 and _allows_501(answer.case))]

    assert len(server_errors) == 0, _summary(server_errors)


def test_each_genuine_activity_gets_the_status_its_kind_has(fuzz_run: FuzzRun) -> None:
    unexpected = [answer for answer in fuzz_run.answers
                  if (expected := _expected(answer.case)) is not None and answer.status not in expected]

    assert len(unexpected) == 0, _summary(unexpected)


def test_nothing_a_caller_sent_left_a_traceback_or_an_unclosed_session(fuzz_run: FuzzRun) -> None:
    problems = {problem: fuzz_run.log.count(problem) for problem in LOG_PROBLEMS}

    assert not any(problems.values()), f"{problems}; first: {_problem_lines(fuzz_run.log)}"


def test_each_refused_body_is_one_log_line_saying_what_is_wrong(fuzz_run: FuzzRun) -> None:
    """The ingress's line for a body that is no readable activity, the sign-in's for an invoke value it refuses."""
    entries = [json.loads(line) for line in fuzz_run.log.splitlines() if line.startswith("{")]
    refusals = [entry["message"] for entry in entries
                if entry["message"].startswith("Refused a request to /api/messages (400): ")
                or (entry["logger"] == "auth.sign_in" and " refused: " in entry["message"])]

    assert len(refusals) == sum(answer.status == 400 for answer in fuzz_run.answers)


def test_every_answer_comes_within_the_time_bot_service_gives_a_turn(fuzz_run: FuzzRun) -> None:
    slow = [answer for answer in fuzz_run.answers if answer.seconds > TURN_SECONDS]

    assert len(slow) == 0, _summary(slow)


def test_memory_and_descriptors_stay_flat(fuzz_run: FuzzRun) -> None:
    """The end against the warm-up: memory held a while for a huge body (a user's pending sign-in keeps the command
    to replay, up to the 1 MiB a body may have) comes and goes, growth would stay."""
    end = fuzz_run.footprints[-1]
    grown = end.rss_mb - fuzz_run.warm.rss_mb
    opened = max(footprint.descriptors for footprint in fuzz_run.footprints) - fuzz_run.warm.descriptors

    assert grown <= RSS_SLACK_MB, f"RSS grew {grown:.1f} MB after the warm-up: {fuzz_run.footprints}"
    assert opened <= FD_SLACK, f"{opened} more descriptors open after the warm-up: {fuzz_run.footprints}"

"""A service that fails a turn's call is one fault type naming it (`turn.faults`), Graph included; one rule says
whether it is busy (say when to come back) or unavailable."""

from __future__ import annotations

import pytest

from graph.client import error_for
from graph.errors import GRAPH, GraphError
from turn.faults import STORAGE, TOKEN_SERVICE, ServiceBusy, ServiceUnavailable, fault_for


@pytest.mark.parametrize(("status", "headers"), [(429, {}), (429, {"Retry-After": "30"}), (503, {"Retry-After": "30"})])
def test_a_service_that_asks_us_to_wait_is_busy_whichever_it_is(status: int, headers: dict[str, str]) -> None:
    wait = int(headers["Retry-After"]) if headers else None

    graph, storage = error_for(status, wait, "User.Read"), fault_for(STORAGE, status, headers)

    assert isinstance(graph, ServiceBusy) and isinstance(storage, ServiceBusy)
    assert (graph.service, graph.retry_after, storage.service, storage.retry_after) == (GRAPH, wait, STORAGE, wait)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_failing_service_is_unavailable_whichever_it_is(status: int) -> None:
    graph, token_service = error_for(status, None, "User.Read"), fault_for(TOKEN_SERVICE, status, None)

    assert isinstance(graph, ServiceUnavailable) and isinstance(token_service, ServiceUnavailable)
    assert (graph.service, token_service.service) == (GRAPH, TOKEN_SERVICE)


def test_a_graph_fault_is_still_a_graph_error_so_a_command_answers_it_with_its_card() -> None:
    assert isinstance(error_for(429, 5, "User.Read"), GraphError)
    assert isinstance(error_for(503, None, "User.Read"), GraphError)


def test_the_user_is_told_when_to_try_again_when_the_service_said() -> None:
    assert "try again in 30 s" in str(fault_for(STORAGE, 429, {"retry-after": "30"}))
    assert "try again in a moment" in str(fault_for(STORAGE, 429, {}))

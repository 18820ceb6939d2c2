"""`GET /manifest.json`: the Bot Framework skill manifest (v2.2) with which Copilot Studio adds this agent as a skill.

The event actions are the commands' (`skills/catalog.py`); their `resultValue` schemas are derived from the
`graph.models` dataclasses that `to_json` serializes, so the manifest describes exactly what `skills/skill_actions.py`
returns.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from aiohttp import web

from .catalog import COMMANDS, CommandRecord, SkillAction

SCHEMA_URL = "https://schemas.botframework.com/schemas/skills/v2.2/skill-manifest.json"
SKILL_ID = "graph-productivity-agent"
VERSION = "1.0"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Why the action returned no data: `error` is machine-readable, `message` tells the user what to do.",
    "properties": {
        "error": {"enum": ["signInRequired", "missingPermission", "busy", "unavailable", "graphError",
                           "invalidValue", "unknownAction"]},
        "message": {"type": "string"},
        "permission": {"type": "string", "description": "The missing Graph permission (missingPermission)."},
        "retryAfter": {"type": "integer", "description": "Seconds to wait before trying again (busy)."},
    },
    "required": ["error", "message"],
    "additionalProperties": False,
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def to_json(value: Any) -> Any:
    """A `graph.models` result as JSON: camelCase keys, ISO 8601 datetimes, fields that are None left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(field.name): to_json(getattr(value, field.name)) for field in dataclasses.fields(value)
                if getattr(value, field.name) is not None}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value


def json_schema(cls: type) -> dict[str, Any]:
    """The JSON schema of `to_json(instance of cls)`: optional fields are the ones that may be None."""
    hints = get_type_hints(cls)
    properties = {camel(field.name): _type_schema(hints[field.name]) for field in dataclasses.fields(cls)}
    required = [camel(field.name) for field in dataclasses.fields(cls) if type(None) not in get_args(hints[field.name])]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _type_schema(hint: Any) -> dict[str, Any]:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _type_schema(inner)
    if origin is Literal:
        return {"enum": list(args)}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0])}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return json_schema(hint)
    simple = {str: {"type": "string"}, bool: {"type": "boolean"}, int: {"type": "integer"},
              datetime: {"type": "string", "format": "date-time"}}
    return dict(simple[hint])


def actions(commands: Iterable[CommandRecord]) -> dict[str, SkillAction]:
    """The skill's event actions by name: every command's that has one."""
    return {record.action.name: record.action for record in commands if record.action is not None}


def manifest(endpoint_url: str, app_id: str, commands: Sequence[CommandRecord] = COMMANDS) -> dict[str, Any]:
    activities: dict[str, Any] = {
        action.name: {"type": "event", "name": action.name, "description": action.description, "value": action.value,
                      "resultValue": {"oneOf": [json_schema(action.result), ERROR_SCHEMA]}}
        for action in actions(commands).values()
    }
    typed = ", ".join(record.usage for record in commands if record.fetch is not None)
    activities["message"] = {"type": "message", "description": f"A command as a user types it: {typed}."}
    return {
        "$schema": SCHEMA_URL,
        "$id": SKILL_ID,
        "name": "Graph productivity agent",
        "description": "Your Microsoft 365 profile, calendar and OneDrive files, through Microsoft Graph.",
        "publisherName": "Graph productivity agent",
        "version": VERSION,
        "endpoints": [{"name": "default", "protocol": "BotFrameworkV3", "description": "The agent's messaging endpoint",
                       "endpointUrl": endpoint_url, "msAppId": app_id}],
        "activities": activities,
    }


def manifest_handler(settings: Mapping[str, str], app_id: str, commands: Sequence[CommandRecord] = COMMANDS,
                     ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Served without auth, as skill manifests are. The endpoint is `SKILL_ENDPOINT_URL`, else this host's
    /api/messages (behind a proxy, set `SKILL_ENDPOINT_URL`)."""
    configured = settings.get("SKILL_ENDPOINT_URL", "").strip()

    async def serve(request: web.Request) -> web.Response:
        endpoint = configured or f"{request.url.origin()}/api/messages"
        return web.json_response(manifest(endpoint, app_id, commands))

    return serve

"""Structured logs that never carry a secret, nor personal data unless asked: one JSON object per line, redacted on
every handler.

The redaction sits on the handlers, not on loggers, because a logger's filters do not see records propagated from
its children (the SDK's, MSAL's, aiohttp's). It rewrites the message, the exception text and the stack, so a token
inside an exception's message is caught too.

Personal data is what the SDK logs about the user on every Teams turn: the token service's `state` (base64 JSON with
the user's display name and object id), the Teams user id, and, in dumps and errors, names, object ids and UPNs. It
is masked unless `LOG_PERSONAL_DATA=true`, by the shapes it comes in (the keys that name it, Teams ids, e-mail
addresses), since the values themselves are not known in advance.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError
from pydantic import ValidationError

from turn.faults import ReplyUndelivered, ServiceFault

MASK = "***"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # A JWT (JWS or JWE): base64url JSON header `{"…` then dot-separated segments.
    (re.compile(r"eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){1,4}"), MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {MASK}"),
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(client_secret|client_assertion|assertion|access_token|refresh_token|id_token|password"
                r"|code_verifier|accountkey|sharedaccesssignature|sig)(['\"]?\s*[=:]\s*['\"]?)[^&;\s'\",}]+"),
     rf"\1\2{MASK}"),
]
_PERSONAL_IDS = (r"userId|user_id|aadObjectId|aad_object_id|objectId|object_id|oid|upn|userPrincipalName"
                 r"|user_principal_name|preferred_username|mail|email|client_info|home_account_id|local_account_id")
"""Keys of ids; `client_info` is MSAL's (base64 JSON of the object and tenant ids), as are the two account ids."""
_PERSONAL_KEYS = rf"{_PERSONAL_IDS}|displayName|display_name|givenName|given_name|surname|name|state"
_BARE_VALUE = r"""(?!['"\s])[^\s&;,'")}\]]+"""
_PERSONAL_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # The value of a key that names personal data: quoted ('name': 'Adele Vance', name='Adele'), in a query or keyword
    # argument (userId=29:1abc&…), or an id after a colon in prose (user_id: 29:1abc, …).
    (re.compile(rf"""(?i)\b({_PERSONAL_KEYS})(['"]?\s*[:=]\s*)(['"])(.*?)\3"""), rf"\1\2\3{MASK}\3"),
    (re.compile(rf"(?i)\b({_PERSONAL_KEYS})(\s*=\s*){_BARE_VALUE}"), rf"\1\2{MASK}"),
    (re.compile(rf"(?i)\b({_PERSONAL_IDS})(\s*:\s*){_BARE_VALUE}"), rf"\1\2{MASK}"),
    # A Teams or Skype user id wherever it stands (29:1Xa…, 8:orgid:…).
    (re.compile(r"\b(?:29|8:orgid):[A-Za-z0-9_-]+"), MASK),
    # An e-mail address or UPN.
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), MASK),
]
SECRET_KEY = re.compile(
    r"(?i)(secret|password|connection_?string|account_?key|private_?key|identity_?header|otlp\w*_headers)")
"""Setting names whose values are secrets."""
MIN_SECRET_LENGTH = 8
"""Shorter values (`true`, `0`) would mask ordinary words."""


def secret_values(settings: Mapping[str, str]) -> list[str]:
    """The values of secret settings (by name), longest first so a secret containing another is masked whole."""
    values = {value for key, value in settings.items() if SECRET_KEY.search(key) and len(value) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = (), personal_data: bool = False) -> str:
    """`text` with tokens, credentials and the given secret values replaced by `***`, and personal data too unless
    `personal_data` says it may stay."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS if personal_data else _PATTERNS + _PERSONAL_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record in place before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = (), personal_data: bool = False) -> None:
        super().__init__()
        self.secrets = list(secrets)
        self.personal_data = personal_data
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets, self.personal_data)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets, self.personal_data)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets, self.personal_data)
        return True


class UnreadableActivityFilter(logging.Filter):
    """Drops the record the SDK's `Activity` model writes for each body it cannot read: an ERROR with a traceback and
    the offending values (which may be personal). Whoever validates catches the error and says once what it refused
    (`auth.incoming` logs one line naming the field); a caller's malformed body is no fault of the agent's."""

    SDK_LOGGER = "microsoft_agents.activity.activity"

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.name == self.SDK_LOGGER and isinstance(error, ValidationError))


class OutsideFaultFilter(logging.Filter):
    """Drops the record `AgentApplication` writes for every error a turn raises (an ERROR with a traceback) when the
    error is an outside fault: a `ServiceFault` (a service busy, failing or slow) or a `ReplyUndelivered`. Such a turn
    is no bug of the agent's; the application's error handler, which the SDK calls next, logs it in one line."""

    SDK_LOGGER = "microsoft_agents.hosting.core.app.agent_application"

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.name == self.SDK_LOGGER and isinstance(error, ServiceFault | ReplyUndelivered))


class UnreadableHttpFilter(logging.Filter):
    """Turns aiohttp's record of a request its HTTP parser refuses (a 400 before any handler runs: a header past 8 KB,
    a malformed request line) from an ERROR with a traceback into one WARNING line naming the fault. Such a request is
    the caller's fault, not the agent's, and aiohttp has already answered it."""

    SERVER_LOGGER = "aiohttp.server"

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.name == self.SERVER_LOGGER and isinstance(error, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.msg, record.args = "Refused a request that is not valid HTTP (%d): %s", (error.code,
                                                                                             type(error).__name__)
            record.exc_info = record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def keeps_personal_data(settings: Mapping[str, str]) -> bool:
    """Only `LOG_PERSONAL_DATA=true` (any case) keeps personal data in the logs; anything else masks it."""
    return (settings.get("LOG_PERSONAL_DATA") or "").strip().lower() == "true"


CHATTY_LIBRARIES = ("microsoft_agents", "msal", "httpx", "aiohttp.access", "azure", "urllib3")
"""Libraries that log each request or OAuth step at INFO (the SDK's flow state, MSAL, httpx per Graph call, aiohttp's
access log): five lines a warm turn, each formatted, redacted and written, saying nothing the agent's own lines and
faults do not (`make bench` prints what INFO logging costs). Below DEBUG they log warnings and errors only."""


def setup_logging(settings: Mapping[str, str]) -> None:
    """Log JSON lines to stderr at `LOG_LEVEL` (default INFO), redacting on every root handler; personal data stays
    only with `LOG_PERSONAL_DATA=true`; `CHATTY_LIBRARIES` at WARNING unless LOG_LEVEL is DEBUG."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=(settings.get("LOG_LEVEL") or "INFO").upper(), handlers=[handler], force=True)
    level = logging.getLogger().level
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if level <= logging.DEBUG else max(level, logging.WARNING))
    redacting = RedactingFilter(secret_values(settings), keeps_personal_data(settings))
    for root_handler in logging.getLogger().handlers:
        root_handler.addFilter(UnreadableActivityFilter())
        root_handler.addFilter(OutsideFaultFilter())
        root_handler.addFilter(UnreadableHttpFilter())
        root_handler.addFilter(redacting)

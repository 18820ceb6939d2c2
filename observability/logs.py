"""Structured logs that never carry a secret: one JSON object per line, redacted on every handler.

The redaction sits on the handlers, not on loggers, because a logger's filters do not see records propagated from
its children (the SDK's, MSAL's, aiohttp's). It rewrites the message, the exception text and the stack, so a token
inside an exception's message is caught too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

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
SECRET_KEY = re.compile(r"(?i)(secret|password|connection_?string|account_?key|private_?key|otlp\w*_headers)")
"""Setting names whose values are secrets."""
MIN_SECRET_LENGTH = 8
"""Shorter values (`true`, `0`) would mask ordinary words."""


def secret_values(settings: Mapping[str, str]) -> list[str]:
    """The values of secret settings (by name), longest first so a secret containing another is masked whole."""
    values = {value for key, value in settings.items() if SECRET_KEY.search(key) and len(value) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with tokens, credentials and the given secret values replaced by `***`."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record in place before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
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


def setup_logging(settings: Mapping[str, str]) -> None:
    """Log JSON lines to stderr at `LOG_LEVEL` (default INFO), redacting on every root handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=(settings.get("LOG_LEVEL") or "INFO").upper(), handlers=[handler], force=True)
    redacting = RedactingFilter(secret_values(settings))
    for root_handler in logging.getLogger().handlers:
        root_handler.addFilter(redacting)

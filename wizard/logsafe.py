"""Log lines pass the same output gate as everything else (wizard.safetext.shown): secrets masked,
control characters inert, the traceback included. HTTP bodies that keystoneauth logs under --debug
(a server's console output, base64 user_data, a token request's password) are not logged at all:
no pattern can know what a guest printed. The request line, status and headers stay (redacted)."""
from __future__ import annotations

import logging
import re

from .safetext import shown

# keystoneauth.session: "REQ: curl ... -d '<body>'" and "RESP BODY: <body>"
_REQ_BODY = re.compile(r" -d '.*\Z", re.S)


def _without_bodies(name: str, message: str) -> str:
    if not name.startswith("keystoneauth"):
        return message
    if message.startswith("RESP BODY:"):
        return f"RESP BODY: (not logged: {len(message) - 10} characters)"
    if message.startswith("REQ: curl") and " -d '" in message:
        return _REQ_BODY.sub(" -d '(body not logged)'", message)
    return message


class SafeFormatter(logging.Formatter):
    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:   # a broken %-format in a library: show what it said, not a second error
            message = str(record.msg)
        message = _without_bodies(record.name, message)
        copy = logging.makeLogRecord(record.__dict__)
        copy.msg, copy.args = message, None
        return shown(self.inner.format(copy))


def install(logger: logging.Logger | None = None) -> None:
    """Put every handler of the root logger (or ``logger``) behind SafeFormatter; idempotent."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        current = handler.formatter
        if not isinstance(current, SafeFormatter):
            handler.setFormatter(SafeFormatter(current))

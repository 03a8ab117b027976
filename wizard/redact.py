"""The redaction pass: passwords, tokens, private keys and connection strings never reach a
runbook, the JSON output, the screen or a log.

Two layers: (1) known secret values (from passwords.yml, clouds.yaml) registered at runtime are
replaced wherever they appear; (2) patterns catch secrets we were not told about: PEM private
keys, ``password = ...`` style settings, credentials inside URLs (``rabbit://user:pass@``,
``mysql+pymysql://user:pass@``), auth tokens."""
from __future__ import annotations

import re
import threading
from typing import Any

MASK = "****"
_known: set[str] = set()
_lock = threading.Lock()

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)
_URL_CREDS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)")
_KEY_VALUE = re.compile(
    r"(?im)^(\s*[\w.-]*(?:password|passwd|secret|token|_key|api_key|credential)[\w.-]*\s*[=:]\s*)(\S.*?)\s*$")
_TOKEN_HEADER = re.compile(r"(?i)(x-(?:auth|subject)-token\s*[:=]\s*)(\S+)")
_FERNET = re.compile(r"\bgAAAAA[0-9A-Za-z_-]{40,}={0,2}")
# A line that is nothing but a long base64 run (after a diff/comment/list prefix): the body of a
# key whose BEGIN/END markers are not in view (a diff's context lines, a tail of a file).
_B64_LINE = re.compile(r"(?m)^([ +\-#>*|]*\s*)([A-Za-z0-9+/]{60,}={0,2})(\s*)$")


def _mask_b64_line(match: re.Match[str]) -> str:
    blob = match.group(2)
    if blob.isdigit() or not (any(c.islower() for c in blob) and any(c.isupper() for c in blob)):
        return match.group(0)   # hex digests and plain numbers are not key material
    return match.group(1) + MASK + match.group(3)
_SAFE_VALUES = {"", "true", "false", "yes", "no", "none", "null", MASK}


def register_secret(value: Any) -> None:
    """Remember a secret value so it is masked wherever it shows up. A multi-line value (a private
    key in passwords.yml) is also remembered line by line: a diff or a log shows pieces of it."""
    if isinstance(value, str) and len(value.strip()) >= 4 and value.strip().lower() not in _SAFE_VALUES:
        with _lock:
            _known.add(value.strip())
            if "\n" in value.strip():
                # not the BEGIN/END markers: the PEM pattern needs them to mask a whole key
                _known.update(line.strip() for line in value.splitlines()
                              if len(line.strip()) >= 16 and "-----" not in line)


def register_secrets_from(data: Any) -> None:
    """Register every leaf value of a secrets file (passwords.yml) or an auth mapping."""
    if isinstance(data, dict):
        for value in data.values():
            register_secrets_from(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            register_secrets_from(value)
    else:
        register_secret(data)


def _mask_kv(match: re.Match[str]) -> str:
    value = match.group(2)
    if value.strip().lower() in _SAFE_VALUES or value.startswith(("{{", MASK)):
        return match.group(0)
    return match.group(1) + MASK


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PEM.sub("-----BEGIN PRIVATE KEY----- " + MASK + " -----END PRIVATE KEY-----", text)
    text = _URL_CREDS.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _KEY_VALUE.sub(_mask_kv, text)
    text = _TOKEN_HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _FERNET.sub(MASK, text)
    text = _B64_LINE.sub(_mask_b64_line, text)
    return text


def redact_data(data: Any) -> Any:
    """Redact every string inside a JSON-like structure."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {k: redact_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_data(v) for v in data]
    return data

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
_SAFE_VALUES = {"", "true", "false", "yes", "no", "none", "null", MASK}


def register_secret(value: Any) -> None:
    """Remember a secret value so it is masked wherever it shows up."""
    if isinstance(value, str) and len(value.strip()) >= 4 and value.strip().lower() not in _SAFE_VALUES:
        with _lock:
            _known.add(value.strip())


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

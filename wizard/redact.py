"""The redaction pass: passwords, tokens, private keys and connection strings never reach a
runbook, the JSON output, the screen or a log.

Three layers:
(1) structure: a file whose type is known (YAML, INI) is parsed when it is read (``learn_file``) and
    the value of every secret-named key is registered, however it is written (a quoted key, a flow
    mapping ``{user: x, password: y}``, a folded or literal block scalar: each raw line of it);
(2) known secret values (from passwords.yml, clouds.yaml, those files) are replaced wherever they
    appear, a diff's context lines included;
(3) patterns catch secrets we were not told about: PEM private keys, ``password = ...`` settings,
    credentials inside URLs (every host of ``rabbit://u:p1@h1:5672,u:p2@h2:5672//``), auth tokens,
    ``"password": "..."`` in JSON bodies, long base64 lines.

Every pattern is linear in the length of the text: per-line work is anchored and bounded, URLs are
found by searching for ``://`` and parsed by hand. A 1 MB console line costs milliseconds."""
from __future__ import annotations

import re
import threading
from typing import Any, Iterator

MASK = "****"
_known: set[str] = set()
_known_sorted: list[str] = []
_lock = threading.Lock()

# Names of settings whose value is a secret. ``_key`` alone is too broad for the structural layer
# (it would register ordinary words); the line pattern masks ``*_key = value`` in place instead.
_SECRET_NAME = re.compile(r"password|passwd|secret|(?:^|_)(?:token|key|pass)$|credential", re.I)
_LINE_SECRET_NAME = re.compile(r"password|passwd|secret|token|_key|credential", re.I)

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|\Z)", re.S)
# One setting per line: an optional diff/list marker, an optional export, a (quoted) key, = or :.
_KEY_VALUE = re.compile(r"""([ \t]*(?:[+\-][ \t]*)?(?:-[ \t]+)?(?:export[ \t]+)?(["']?)([\w.-]{1,200})\2[ \t]*[=:][ \t]*)""")
_TOKEN_HEADER = re.compile(r"(?i)(x-(?:auth|subject)-token[ \t]*[:=][ \t]*)([^\s\"',;]+)")
_JSON_SECRET = re.compile(r'"([\w.-]{1,100})"[ \t]*:[ \t]*"((?:[^"\\\n]|\\.){0,100000})"')
# A secret-named key inside a flow mapping: ``{username: x, password: y}`` (bounded key and value).
_FLOW_SECRET = re.compile(r"""([{,][ \t]*(["']?)([\w.-]{1,100})\2[ \t]*:[ \t]+)([^,}\s][^,}\n]{0,1000})""")
_FERNET = re.compile(r"\bgAAAAA[0-9A-Za-z_-]{40,}={0,2}")
_B64_BODY = re.compile(r"[A-Za-z0-9+/]{60,}={0,2}")
_SAFE_VALUES = {"", "true", "false", "yes", "no", "none", "null", MASK}


def register_secret(value: Any) -> None:
    """Remember a secret value so it is masked wherever it shows up. A multi-line value (a private
    key in passwords.yml) is also remembered line by line: a diff or a log shows pieces of it."""
    global _known_sorted
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and len(value.strip()) >= 4 and value.strip().lower() not in _SAFE_VALUES:
        with _lock:
            before = len(_known)
            _known.add(value.strip())
            if "\n" in value.strip():
                # not the BEGIN/END markers: the PEM pattern needs them to mask a whole key
                _known.update(line.strip() for line in value.splitlines()
                              if len(line.strip()) >= 16 and "-----" not in line)
            if len(_known) != before:
                _known_sorted = sorted(_known, key=len, reverse=True)


def _register_found(value: Any) -> None:
    """A value found under a secret-named key by the structural layer: registered unless it is
    plainly not a secret (a number, a path, a template, a word shorter than 6 characters)."""
    if not isinstance(value, str):
        return
    value = value.strip()
    if len(value) < 6 or value.isdigit() or value.startswith(("/", "{{")) or value.lower() in _SAFE_VALUES:
        return
    register_secret(value)


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


# -- layer 1: structure ------------------------------------------------------------------------
def learn_file(path: str, text: str) -> None:
    """Register the secrets of a file whose type its name tells (YAML, INI/oslo.config, env)."""
    if not text or not isinstance(text, str):
        return
    name = path.rsplit("/", 1)[-1].lower()
    try:
        if name.endswith((".yml", ".yaml")):
            learn_yaml(text)
        elif name.endswith((".ini", ".conf", ".cfg", ".env")) or "." not in name:
            learn_ini(text)
    except Exception:   # a file we cannot parse keeps the pattern layer only; the reader reports it
        pass


def learn_yaml(text: str) -> None:
    """Walk the YAML node graph (no object is built, no tag resolved to code): every scalar under a
    secret-named key, in block or flow style, quoted or not; block scalars line by line."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        _learn_lines_fallback(text)
        return
    seen: set[int] = set()    # an alias bomb shares nodes: each is walked once, so the walk stays linear
    for key, value in _secret_pairs(root, seen):
        for scalar in _scalars(value, seen):
            _register_found(scalar.value)
            if scalar.style in ("|", ">") or "\n" in text[scalar.start_mark.index:scalar.end_mark.index]:
                for line in text[scalar.start_mark.index:scalar.end_mark.index].splitlines():
                    line = line.strip().lstrip("|>+-").strip().strip("\"'")
                    _register_found(line)


def _secret_pairs(node: Any, seen: set[int], depth: int = 0) -> Iterator[tuple[str, Any]]:
    import yaml

    if depth > 50 or node is None or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and _SECRET_NAME.search(str(k.value)):
                yield str(k.value), v
            else:
                yield from _secret_pairs(v, seen, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            yield from _secret_pairs(v, seen, depth + 1)


def _scalars(node: Any, seen: set[int], depth: int = 0) -> Iterator[Any]:
    import yaml

    if depth > 50 or (not isinstance(node, yaml.ScalarNode) and id(node) in seen):
        return
    if isinstance(node, yaml.ScalarNode):
        yield node
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for v in node.value:
            yield from _scalars(v, seen, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for _k, v in node.value:
            yield from _scalars(v, seen, depth + 1)


def learn_ini(text: str) -> None:
    """oslo.config style: ``key = value`` / ``key: value``, continuation lines, and a line that is
    not a setting at all (``rabbit_password Secret``: a parse error must not echo it)."""
    last_secret = False
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;[":
            last_secret = False
            continue
        if raw[:1] in " \t" and last_secret:
            _register_found(stripped)
            continue
        positions = [p for p in (stripped.find("="), stripped.find(":")) if p > 0]
        if positions:
            key, value = stripped[:min(positions)].strip(), stripped[min(positions) + 1:].strip()
        else:
            key, _, value = stripped.partition(" ")
            value = value.strip()
        last_secret = bool(_SECRET_NAME.search(key))
        if last_secret:
            _register_found(value.strip("\"'"))
        for url_secret in url_passwords(value):
            register_secret(url_secret)


def _learn_lines_fallback(text: str) -> None:
    for raw in text.splitlines():
        m = _KEY_VALUE.match(raw)
        if m and _SECRET_NAME.search(m.group(3)):
            _register_found(raw[m.end():].strip().strip("\"'"))


# -- layer 3: URLs, by hand (linear) -------------------------------------------------------------
_URL_STOP = set(" \t\n\r\"'<>`")


def _url_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every password inside a URL's authority: ``scheme://user:PASS@host``, and each
    host of a multi-host URL (``//u:p1@h1:5672,u:p2@h2:5672/``)."""
    pos = text.find("://")
    while pos != -1:
        start = pos + 3
        end = start
        n = len(text)
        while end < n and text[end] not in _URL_STOP:
            end += 1
        token = text[start:end]
        at = token.rfind("@")
        if at != -1:
            slash = token.find("/", at)
            authority_end = start + (slash if slash != -1 else len(token))
            # each userinfo: from the start (or the char after a ',') to its '@'
            seg_start = after_at = start
            last_at = start + at
            i = start
            while i < authority_end:
                ch = text[i]
                if ch == "@":
                    colon = text.find(":", seg_start, i)
                    if colon == -1:     # a ',' inside the password itself (``u:pa,ss@h``)
                        colon = text.find(":", after_at, i)
                    if colon != -1 and colon + 1 < i:
                        yield colon + 1, i
                    seg_start = after_at = i + 1
                elif ch == "," and i < last_at:
                    seg_start = i + 1
                i += 1
        pos = text.find("://", max(end, pos + 3))


def url_passwords(text: str) -> list[str]:
    return [text[a:b] for a, b in _url_spans(text) if text[a:b] != MASK]


def _mask_urls(text: str) -> str:
    spans = list(_url_spans(text))
    if not spans:
        return text
    out, last = [], 0
    for a, b in spans:
        out.append(text[last:a])
        out.append(MASK)
        last = b
    out.append(text[last:])
    return "".join(out)


# -- layer 3: one setting per line ---------------------------------------------------------------
def _mask_line(line: str) -> str:
    m = _KEY_VALUE.match(line)
    if not m or not _LINE_SECRET_NAME.search(m.group(3)):
        return line
    rest = line[m.end():]
    value = rest.rstrip()
    trail = rest[len(value):]
    if not value:
        return line
    quote = value[0] if value[0] in "\"'" else ""
    inner = value[1:] if quote else value
    suffix = ""
    if quote:
        close = inner.find(quote)
        if close != -1:
            inner, suffix = inner[:close], inner[close:]
    if inner.strip().lower() in _SAFE_VALUES or inner.startswith(("{{", MASK, "&", "*")) or inner in ("|", ">", "|-", ">-", "{", "["):
        return line
    return line[:m.end()] + quote + MASK + suffix + trail


def _mask_b64_line(line: str) -> str:
    body = line.strip()
    prefix_len = len(body) - len(body.lstrip(" +-#>*|\t"))
    blob = body[prefix_len:]
    if len(blob) < 60 or not _B64_BODY.fullmatch(blob):
        return line
    if blob.isdigit() or not (any(c.islower() for c in blob) and any(c.isupper() for c in blob)):
        return line   # hex digests and plain numbers are not key material
    return line[: line.index(blob)] + MASK + line[line.index(blob) + len(blob):]


def _mask_flow_secret(match: re.Match[str]) -> str:
    value = match.group(4).rstrip()
    if not _LINE_SECRET_NAME.search(match.group(3)) or value.strip("\"'").lower() in _SAFE_VALUES \
            or value.startswith(("{{", MASK)):
        return match.group(0)
    return match.group(1) + MASK + match.group(4)[len(value):]


def _mask_json_secret(match: re.Match[str]) -> str:
    if not _LINE_SECRET_NAME.search(match.group(1)) or match.group(2) in _SAFE_VALUES:
        return match.group(0)
    return f'"{match.group(1)}": "{MASK}"'


def redact(text: str) -> str:
    if not text:
        return text
    # Whole PEM keys first: a known secret that happens to be part of a BEGIN/END marker (any
    # 4+ characters, e.g. "KEY-----") would otherwise break the markers, and the key body would
    # then pass through unmasked.
    if "PRIVATE KEY-----" in text:
        text = _PEM.sub("-----BEGIN PRIVATE KEY----- " + MASK + " -----END PRIVATE KEY-----", text)
    with _lock:
        known = _known_sorted
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:
        text = _mask_urls(text)
    if '"' in text:
        text = _JSON_SECRET.sub(_mask_json_secret, text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) >= 4:
            new = _mask_line(line)
            if "{" in new:
                new = _FLOW_SECRET.sub(_mask_flow_secret, new)
            if len(new) >= 60:
                new = _mask_b64_line(new)
            lines[i] = new
    text = "\n".join(lines)
    text = _TOKEN_HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _FERNET.sub(MASK, text)
    return text


def redact_data(data: Any) -> Any:
    """Redact every string inside a JSON-like structure."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {k: redact_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in data]
    return data

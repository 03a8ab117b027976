"""Kolla's own templates as the oracle for "what Kolla would deploy".

Where kolla-ansible is installed (its usual home is the deploy host's venv), the wizard can ask
Kolla itself what each host's ``openvswitch_agent.ini`` would be: a tiny local playbook calls
Kolla's ``merge_configs`` action with the same sources as the neutron role (the template, then
``<config>/config/neutron/openvswitch_agent.ini``, then ``.../neutron/<host>/openvswitch_agent.ini``),
with Kolla's own ``group_vars`` and the neutron role's defaults, the operator's inventory (and the
group_vars/host_vars beside it) and ``-e @globals.yml`` exactly as ``kolla-ansible`` passes them.
Nothing is contacted: every host is rendered with ``ansible_connection=local`` into a temporary
directory. One ansible run renders every requested host (3 to 4 s a run).

The built-in model (``wizard.kolla.render``) stays the fallback and the explanation; this module
only answers "which bridge_mappings would land on each host".

In the product (``KollaOracle``, one per diagnosis, ``ctx.kolla_oracle``): the files the render
needs (globals.yml, globals.d/*.yml, the inventory with its group_vars/host_vars, the
config/neutron openvswitch_agent.ini overrides) are copied through the deploy host's transport
into a private 0700 directory, rendered, and deleted. passwords.yml is never read: the
openvswitch_agent.ini template and the variables it uses need no password."""
from __future__ import annotations

import configparser
import glob
import logging
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WizardError
from .release import Release
from ..i18n import t

# Where kolla-ansible's playbooks live below an install prefix (pip, distro package).
SHARE_SUBDIR = "share/kolla-ansible/ansible"
PREFIX_ENV = "KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX"
OVS_AGENT_INI = "openvswitch_agent.ini"
DEFAULT_TIMEOUT = 180.0
# In a diagnosis: one render takes 1.5 to 4 s; past this the expected view falls back to the model.
PRODUCT_TIMEOUT = 30.0
OFF_VALUES = ("off", "no", "none", "false", "0")
NEVER_COPIED = ("passwords.yml", "passwords.yaml")

log = logging.getLogger(__name__)

_PLAYBOOK = """\
# Written by kolla-wizard's Kolla oracle: render openvswitch_agent.ini the way the neutron role does.
- hosts: "{{ oracle_hosts }}"
  gather_facts: false
  roles:
    - oracle
"""

_TASKS = """\
- name: Render openvswitch_agent.ini with Kolla's merge_configs (same sources as roles/neutron)
  merge_configs:
    sources:
      - "{{ oracle_neutron_role }}/templates/openvswitch_agent.ini.j2"
      - "{{ node_custom_config }}/neutron/openvswitch_agent.ini"
      - "{{ node_custom_config }}/neutron/{{ inventory_hostname }}/openvswitch_agent.ini"
    dest: "{{ oracle_out }}/{{ inventory_hostname }}/openvswitch_agent.ini"
    mode: "0600"
"""


class OracleFailed(WizardError):
    """kolla-ansible is installed but could not render (bad globals.yml, inventory, template error)."""


@dataclass(frozen=True)
class KollaAnsible:
    prefix: Path
    version: str

    @property
    def ansible_dir(self) -> Path:
        return self.prefix / SHARE_SUBDIR

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    @property
    def ansible_playbook(self) -> Path:
        return self.prefix / "bin" / "ansible-playbook"

    @property
    def release(self) -> Release | None:
        return Release.from_kolla_ansible_version(self.version)


def _version_at(prefix: Path) -> str | None:
    found = glob.glob(str(prefix / "lib" / "python3*" / "site-packages" / "kolla_ansible-*.dist-info"))
    if not found:
        return None
    match = re.match(r"kolla_ansible-([^-]+)\.dist-info", os.path.basename(sorted(found)[-1]))
    return match.group(1) if match else None


def find_kolla_ansible(prefix: str | os.PathLike[str] | None = None) -> KollaAnsible | None:
    """kolla-ansible with ansible-playbook beside it: ``prefix``, then ``$KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX``,
    then the wizard's own environment, then wherever ``kolla-ansible`` is on PATH, then /usr/local, /usr."""
    candidates: list[Path] = []
    if prefix:
        candidates.append(Path(prefix))
    else:
        if os.environ.get(PREFIX_ENV):
            candidates.append(Path(os.environ[PREFIX_ENV]))
        candidates.append(Path(sys.prefix))
        on_path = shutil.which("kolla-ansible")
        if on_path:
            candidates.append(Path(os.path.realpath(on_path)).parent.parent)
        candidates += [Path("/usr/local"), Path("/usr")]
    for candidate in candidates:
        if (candidate / SHARE_SUBDIR / "roles/neutron/templates" / f"{OVS_AGENT_INI}.j2").is_file() \
                and (candidate / "bin" / "ansible-playbook").is_file() and (candidate / "bin" / "python").exists():
            version = _version_at(candidate)
            if version:
                return KollaAnsible(candidate, version)
    return None


def _extra_var_files(config_dir: Path) -> list[Path]:
    """globals.yml then globals.d/*.yml, as kolla-ansible passes them (passwords.yml is not needed
    by these templates and is deliberately not read)."""
    files = [config_dir / "globals.yml"]
    globals_d = config_dir / "globals.d"
    if globals_d.is_dir():
        files += sorted(p for p in globals_d.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    return files


def _stage_playbook(kolla: KollaAnsible, work: Path) -> Path:
    ansible = kolla.ansible_dir
    play_dir = work / "play"
    role = play_dir / "roles" / "oracle"
    (role / "tasks").mkdir(parents=True)
    (role / "defaults").mkdir()
    (role / "defaults" / "main.yml").symlink_to(ansible / "roles/neutron/defaults/main.yml")
    (role / "tasks" / "main.yml").write_text(_TASKS)
    # Kolla's playbook-level group_vars and plugins, beside the playbook as in ansible/.
    for name in ("group_vars", "filter_plugins", "action_plugins", "library", "module_utils"):
        if (ansible / name).exists():
            (play_dir / name).symlink_to(ansible / name)
    playbook = play_dir / "oracle.yml"
    playbook.write_text(_PLAYBOOK)
    return playbook


def render_openvswitch_agent_ini(config_dir: str | os.PathLike[str], inventory_path: str | os.PathLike[str],
                                 hosts: list[str], *, kolla: KollaAnsible,
                                 timeout: float = DEFAULT_TIMEOUT,
                                 extra_vars: dict[str, str] | None = None) -> dict[str, str]:
    """Each host's openvswitch_agent.ini text as Kolla would deploy it (local files only).
    ``extra_vars`` are passed last (e.g. ``node_custom_config`` of a staged copy)."""
    config = Path(config_dir)
    if not (config / "globals.yml").is_file():
        raise OracleFailed(t("{value}: not found (check --kolla-config-dir)", value=config / 'globals.yml'))
    if not hosts:
        return {}
    with tempfile.TemporaryDirectory(prefix="kolla-wizard-oracle-") as tmp:
        work = Path(tmp)
        playbook = _stage_playbook(kolla, work)
        (work / "ansible.cfg").write_text("[defaults]\n")
        out = work / "out"
        for host in hosts:
            (out / host).mkdir(parents=True, exist_ok=True)
        argv = [str(kolla.ansible_playbook), "-i", str(inventory_path), str(playbook),
                "--connection=local"]
        for extra in _extra_var_files(config):
            argv += ["-e", f"@{extra}"]
        # Our own settings go last as extra vars (they win over everything, as they must):
        # never connect or become anywhere, use this venv's Python, and give local_ip a value
        # without gathering facts (it does not affect bridge_mappings).
        argv += ["-e", f"CONFIG_DIR={config}",
                 "-e", "ansible_connection=local", "-e", "ansible_become=false",
                 "-e", f"ansible_python_interpreter={kolla.python}",
                 "-e", "tunnel_interface_address=127.0.0.1",
                 "-e", f"oracle_neutron_role={kolla.ansible_dir / 'roles/neutron'}",
                 "-e", f"oracle_out={out}",
                 "-e", f"oracle_hosts={','.join(hosts)}"]
        for name, value in (extra_vars or {}).items():
            argv += ["-e", f"{name}={value}"]
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update({
            "ANSIBLE_HOME": str(work / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(work / "ansible-remote-tmp"),
            "ANSIBLE_CONFIG": str(work / "ansible.cfg"),   # ours, empty: no stray ansible.cfg applies
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "1",
            "ANSIBLE_FORKS": "8",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "0",
            "ANSIBLE_STDOUT_CALLBACK": "default",
        })
        done = _run_with_timeout(argv, cwd=work, env=env, timeout=timeout)
        rendered: dict[str, str] = {}
        for host in hosts:
            path = out / host / OVS_AGENT_INI
            if path.is_file():
                rendered[host] = path.read_text()
        if done.returncode != 0 or len(rendered) != len(hosts):
            raise OracleFailed(t("kolla-ansible oracle: ") + _first_error(done.stdout + "\n" + done.stderr, hosts, rendered,
                                                                       own_dir=str(work)))
        return rendered


def _run_with_timeout(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float):
    """ansible-playbook in its own session, so a timeout kills it and every worker it forked."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise OracleFailed(t("kolla-ansible oracle: ansible-playbook took over {timeout:g} s", timeout=timeout)) from None
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


# Where ansible says the error is: 2.19 prints "Origin: <path>:<line>:<col>", 2.16 "The error
# appears to be in '<path>': line N". Only the place is kept, never the quoted source lines.
_ORIGIN = re.compile(r"^Origin: (?P<path>/\S+?):(?P<line>\d+)(?::\d+)?\s*$")
_APPEARS = re.compile(r"The error appears to be in '(?P<path>[^']+)': line (?P<line>\d+)")


def _error_place(lines: list[str], own_dir: str | None) -> str | None:
    """The last file:line ansible blames that is not the oracle's own playbook."""
    place = None
    for line in lines:
        match = _ORIGIN.match(line.strip()) or _APPEARS.search(line)
        if match and not (own_dir and match.group("path").startswith(own_dir)):
            place = f"{match.group('path')}:{match.group('line')}"
    return place


def _first_error(output: str, hosts: list[str], rendered: dict[str, str], own_dir: str | None = None) -> str:
    lines = output.splitlines()
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith(("fatal:", "ERROR", "[ERROR]")) or "FAILED!" in text:
            # The cause and its place follow the first error line, up to the next task/play.
            following = []
            for later in lines[i + 1:]:
                if later.startswith(("fatal:", "PLAY", "TASK")):
                    break
                following.append(later)
            place = _error_place([line, *following], own_dir)
            for prefix in ("[ERROR]: ", "ERROR! "):
                text = text.removeprefix(prefix)
            return text[:400] + (f" (at {place})" if place and place not in text else "")
    missing = [h for h in hosts if h not in rendered]
    if missing:
        return t("no render for {missing} (not in the inventory?)", missing=', '.join(missing))
    return (output.strip().splitlines() or [t("ansible-playbook failed")])[-1][:400]


def bridge_mappings_of(ini_text: str) -> dict[str, str]:
    """``[ovs] bridge_mappings`` as {physnet: bridge}; {} when the line is absent or empty."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(ini_text)
    value = parser.get("ovs", "bridge_mappings", fallback="") or ""
    mappings: dict[str, str] = {}
    for pair in value.split(","):
        if ":" in pair:
            physnet, bridge = pair.split(":", 1)
            mappings[physnet.strip()] = bridge.strip()
    return mappings


def oracle_expected_bridge_mappings(config_dir: str | os.PathLike[str], inventory_path: str | os.PathLike[str],
                                    hosts: list[str], *, kolla_ansible_prefix: str | os.PathLike[str] | None = None,
                                    timeout: float = DEFAULT_TIMEOUT) -> dict[str, dict[str, str]] | None:
    """{host: {physnet: bridge}} as Kolla's own templates render it, or None when kolla-ansible is
    not installed here. Raises OracleFailed (one line) when it is installed but cannot render."""
    kolla = find_kolla_ansible(kolla_ansible_prefix)
    if kolla is None:
        return None
    rendered = render_openvswitch_agent_ini(config_dir, inventory_path, hosts, kolla=kolla, timeout=timeout)
    return {host: bridge_mappings_of(text) for host, text in rendered.items()}


def bridge_mappings_or_none(ini_text: str) -> dict[str, str] | None:
    """Like ``bridge_mappings_of``, but None when the template rendered no ``bridge_mappings`` line
    (the built-in model's "no bridge_mappings", as opposed to an empty value)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(ini_text)
    if not parser.has_option("ovs", "bridge_mappings"):
        return None
    return bridge_mappings_of(ini_text)


# -- in the product: find kolla-ansible, stage the deploy host's files, render once -------------------

def locate_kolla_ansible(setting: str | None) -> tuple[KollaAnsible | None, str, bool]:
    """(kolla-ansible or None, why not in one line, whether that is a problem to report).

    ``setting`` is ``--kolla-ansible``: None or "auto" looks in $KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX,
    this Python's prefix, ``kolla-ansible`` on PATH, /usr/local, /usr; "off" turns the oracle off;
    anything else is a venv/prefix (or its ``bin/kolla-ansible``) that must hold kolla-ansible."""
    value = (setting or "").strip()
    if not value or value.lower() == "auto":
        env = os.environ.get(PREFIX_ENV, "").strip()
        if env.lower() in OFF_VALUES and env:
            return None, t("the Kolla oracle is off ({setting})", setting=f"${PREFIX_ENV}={env}"), False
        found = find_kolla_ansible(None)
        if found is None:
            return None, t("kolla-ansible is not installed where the wizard runs; --kolla-ansible PREFIX "
                           "would use Kolla's own templates"), False
        return found, "", False
    if value.lower() in OFF_VALUES:
        return None, t("the Kolla oracle is off ({setting})", setting="--kolla-ansible off"), False
    path = Path(value).expanduser()
    if path.is_file():   # .../bin/kolla-ansible
        path = Path(os.path.realpath(path)).parent.parent
    found = find_kolla_ansible(path)
    if found is None:
        return None, t("--kolla-ansible {value}: no kolla-ansible with ansible-playbook there (give the venv or "
                       "prefix that holds {share})", value=value, share=SHARE_SUBDIR), True
    return found, "", False


@dataclass
class StagedFiles:
    """A private copy of what the render reads, and how to name its files as the deploy host does."""
    root: Path
    config_dir: Path
    inventory: Path
    origins: dict[str, str] = field(default_factory=dict)   # staged path -> path on the deploy host

    def unstage(self, text: str) -> str:
        """Name files as the operator knows them in a message (longest staged path first)."""
        for staged in sorted(self.origins, key=len, reverse=True):
            text = text.replace(staged, self.origins[staged])
        return text


def _copy(reader: Any, source: str, dest: Path, staged: StagedFiles, *, required: bool = False) -> bool:
    from ..transport.base import FileMissing

    if posixpath.basename(source) in NEVER_COPIED:
        return False
    try:
        text = reader.read_file(source)
    except FileMissing:
        if required:
            raise OracleFailed(t("{source}: not found (check --kolla-config-dir / --inventory)", source=source)) from None
        return False
    refused = unsafe_template(text)
    if refused:
        line, what = refused
        raise OracleFailed(t("{source}:{line}: {what}: the oracle does not render the operator's files when they hold "
                             "anything but plain {{{{ variable }}}} references (lookups, filters and plugins would run "
                             "on this machine during a read-only diagnosis)", source=source, line=line, what=what))
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    staged.origins[str(dest)] = source
    return True


_PLAIN_REFERENCE = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*\}\}")


def unsafe_template(text: str) -> tuple[int, str] | None:
    """(line, what) of the first Jinja construct in an operator's file that is not a plain variable
    reference (``{{ name }}``, ``{{ a.b }}``), or None. Ansible renders these files' values when Kolla's
    templates use them: ``{{ lookup('pipe', ...) }}``, ``query``, a filter or test plugin, ``{% ... %}``
    would run on the wizard's machine. Linear: one scan for the delimiters."""
    pos = 0
    while True:
        starts = [i for i in (text.find("{{", pos), text.find("{%", pos)) if i != -1]
        if not starts:
            return None
        start = min(starts)
        line = text.count("\n", 0, start) + 1
        if text.startswith("{%", start):
            return line, "a Jinja statement ({% ... %})"
        end = text.find("}}", start + 2)
        if end == -1:
            return line, "an unclosed {{"
        expression = text[start:end + 2]
        if not _PLAIN_REFERENCE.fullmatch(expression):
            shown = " ".join(expression.split())
            return line, f"the expression {shown[:60]!r}" + ("…" if len(shown) > 60 else "")
        pos = end + 2


def _listdir(reader: Any, path: str) -> list[str]:
    from ..transport.base import TransportError

    try:
        return sorted(reader.listdir(path)) if reader.exists(path) else []
    except TransportError:
        return []


def _is_dir(reader: Any, path: str) -> bool:
    from .reader import is_dir
    return is_dir(reader, path)


def stage_deploy_files(reader: Any, config_dir: str, inventory_path: str, hosts: list[str], dest: Path) -> StagedFiles:
    """Copy, through ``reader`` (the deploy host's transport), only what rendering
    openvswitch_agent.ini for ``hosts`` reads: globals.yml, globals.d/*.yml, the inventory with
    group_vars/ and the hosts' host_vars/ beside it, and the config/neutron openvswitch_agent.ini
    overrides. Never passwords.yml, never other service overrides (they may hold secrets)."""
    staged = StagedFiles(dest, dest / "kolla", dest / "inventory" / (posixpath.basename(inventory_path) or "inventory"))
    staged.config_dir.mkdir(mode=0o700)
    staged.origins[str(staged.config_dir)] = config_dir
    _copy(reader, posixpath.join(config_dir, "globals.yml"), staged.config_dir / "globals.yml", staged, required=True)
    globals_d = posixpath.join(config_dir, "globals.d")
    for name in _listdir(reader, globals_d):
        if name.endswith((".yml", ".yaml")) and not name.startswith("."):
            _copy(reader, posixpath.join(globals_d, name), staged.config_dir / "globals.d" / name, staged)
    _copy(reader, inventory_path, staged.inventory, staged, required=True)
    base = posixpath.dirname(inventory_path)
    for sub in ("group_vars", "host_vars"):
        directory = posixpath.join(base, sub)
        for entry in _listdir(reader, directory):
            stem = entry.rsplit(".", 1)[0] if entry.endswith((".yml", ".yaml")) else entry
            if entry.startswith(".") or (sub == "host_vars" and stem not in hosts):
                continue
            path = posixpath.join(directory, entry)
            if _is_dir(reader, path):
                for inner in _listdir(reader, path):
                    if not inner.startswith("."):
                        _copy(reader, posixpath.join(path, inner), staged.inventory.parent / sub / entry / inner, staged)
            else:
                _copy(reader, path, staged.inventory.parent / sub / entry, staged)
    neutron = posixpath.join(config_dir, "config", "neutron")
    for relative in [OVS_AGENT_INI, *(f"{host}/{OVS_AGENT_INI}" for host in hosts)]:
        _copy(reader, posixpath.join(neutron, relative), staged.config_dir / "config" / "neutron" / relative, staged)
    return staged


def render_expected_bridge_mappings(reader: Any, config_dir: str, inventory_path: str, hosts: list[str], *,
                                    kolla: KollaAnsible, timeout: float = PRODUCT_TIMEOUT
                                    ) -> dict[str, dict[str, str] | None]:
    """{host: bridge_mappings or None} rendered by Kolla's templates from a private copy of the
    deploy host's files (read through ``reader``), deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="kolla-wizard-oracle-files-") as tmp:   # mkdtemp: 0700
        staged = stage_deploy_files(reader, config_dir, inventory_path, hosts, Path(tmp))
        try:
            rendered = render_openvswitch_agent_ini(
                staged.config_dir, staged.inventory, hosts, kolla=kolla, timeout=timeout,
                # The overrides are in the staged copy, wherever globals.yml says they are.
                extra_vars={"node_custom_config": str(staged.config_dir / "config")})
        except OracleFailed as exc:
            raise OracleFailed(staged.unstage(str(exc))) from None
    return {host: bridge_mappings_or_none(text) for host, text in rendered.items()}


@dataclass(frozen=True)
class ExpectedFromKolla:
    """One host's expected bridge_mappings from Kolla's templates, or why there is none."""
    host: str
    rendered: bool
    mappings: dict[str, str] | None = None     # None: the template renders no bridge_mappings line
    source: str = ""                           # "kolla-ansible 22.2.0 templates"
    detail: str = ""                           # where the templates live, for the sources list
    note: str = ""                             # why not rendered, one line ('' when rendered)
    problem: bool = False                      # the note is a broken input the operator must hear of
    seconds: float = 0.0


class KollaOracle:
    """The oracle for one diagnosis: found once, each host rendered at most once (lazily, when a
    step needs the expected view), a broken configuration tried only once."""

    def __init__(self, setting: str | None = None, *, timeout: float = PRODUCT_TIMEOUT) -> None:
        self.setting = setting
        self.timeout = timeout
        self._lock = threading.Lock()
        self._located = False
        self._kolla: KollaAnsible | None = None
        self._unavailable: ExpectedFromKolla | None = None
        self._cache: dict[str, ExpectedFromKolla] = {}
        self.renders = 0

    @property
    def kolla_ansible(self) -> KollaAnsible | None:
        """The kolla-ansible found for this diagnosis (looked for once), or None."""
        with self._lock:
            self._locate()
            return self._kolla

    def _locate(self) -> None:
        if not self._located:
            self._located = True
            self._kolla, why, problem = locate_kolla_ansible(self.setting)
            if self._kolla is None:
                self._unavailable = ExpectedFromKolla("", False, note=why, problem=problem)

    def expected(self, model: Any, host: str) -> ExpectedFromKolla:
        """``model`` is the KollaModel: its reader (the deploy transport), config dir and inventory."""
        with self._lock:
            if host in self._cache:
                return self._cache[host]
            self._locate()
            if self._unavailable is not None:
                return ExpectedFromKolla(host, False, note=self._unavailable.note, problem=self._unavailable.problem)
            kolla = self._kolla
            assert kolla is not None
            source = t("kolla-ansible {version} templates", version=kolla.version)
            if not model.inventory_path:
                return ExpectedFromKolla(host, False, note=t("no inventory to render with"), problem=False)
            started = time.monotonic()
            try:
                self.renders += 1
                mappings = render_expected_bridge_mappings(model.reader, model.config_dir, model.inventory_path,
                                                           [host], kolla=kolla, timeout=self.timeout)
                origin = getattr(model.reader, "name", "") or t("the deploy host")
                view = ExpectedFromKolla(host, True, mappings.get(host), source,
                                         detail=f"{source} in {kolla.prefix}: rendered {host}'s {OVS_AGENT_INI} "
                                                f"from a copy of {origin}:{model.config_dir} (local ansible-playbook, "
                                                "nothing contacted)",
                                         seconds=time.monotonic() - started)
            except WizardError as exc:      # OracleFailed, or the deploy transport failed mid-copy
                self._unavailable = ExpectedFromKolla("", False, note=_one_line(exc.one_line()), problem=True)
                return ExpectedFromKolla(host, False, note=self._unavailable.note, problem=True,
                                         seconds=time.monotonic() - started)
            except OSError as exc:          # no room in /tmp, ansible-playbook not executable
                self._unavailable = ExpectedFromKolla("", False, problem=True,
                                                      note=t("kolla-ansible oracle: {strerror}", strerror=exc.strerror or exc))
                return ExpectedFromKolla(host, False, note=self._unavailable.note, problem=True)
            self._cache[host] = view
            log.debug("kolla oracle rendered %s in %.2f s", host, view.seconds)
            return view


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]

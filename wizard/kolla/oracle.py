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
only answers "which bridge_mappings would land on each host"."""
from __future__ import annotations

import configparser
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import WizardError
from .release import Release

# Where kolla-ansible's playbooks live below an install prefix (pip, distro package).
SHARE_SUBDIR = "share/kolla-ansible/ansible"
PREFIX_ENV = "KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX"
OVS_AGENT_INI = "openvswitch_agent.ini"
DEFAULT_TIMEOUT = 180.0

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
                                 timeout: float = DEFAULT_TIMEOUT) -> dict[str, str]:
    """Each host's openvswitch_agent.ini text as Kolla would deploy it (local files only)."""
    config = Path(config_dir)
    if not (config / "globals.yml").is_file():
        raise OracleFailed(f"{config / 'globals.yml'}: not found (check --config-dir)")
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
        try:
            done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            raise OracleFailed(f"kolla-ansible oracle: ansible-playbook took over {timeout:.0f} s") from None
        rendered: dict[str, str] = {}
        for host in hosts:
            path = out / host / OVS_AGENT_INI
            if path.is_file():
                rendered[host] = path.read_text()
        if done.returncode != 0 or len(rendered) != len(hosts):
            raise OracleFailed("kolla-ansible oracle: " + _first_error(done.stdout + "\n" + done.stderr, hosts, rendered))
        return rendered


def _first_error(output: str, hosts: list[str], rendered: dict[str, str]) -> str:
    for line in output.splitlines():
        text = line.strip()
        if text.startswith(("fatal:", "ERROR", "[ERROR]")) or "FAILED!" in text:
            return text[:400]
    missing = [h for h in hosts if h not in rendered]
    if missing:
        return f"no render for {', '.join(missing)} (not in the inventory?)"
    return (output.strip().splitlines() or ["ansible-playbook failed"])[-1][:400]


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

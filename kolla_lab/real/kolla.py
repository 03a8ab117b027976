"""kolla-ansible's own templates render each node's deployed openvswitch_agent.ini (the lab's own
call; kolla_lab never imports the wizard's Kolla oracle). A tiny local playbook calls Kolla's
``merge_configs`` with the neutron role's sources, Kolla's group_vars and the role defaults,
``-e @globals.yml`` and ``ansible_connection=local``: nothing is contacted."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from .venvs import RealTierUnavailable, venv

PLAYBOOK = """- hosts: "{{ lab_hosts }}"
  gather_facts: false
  roles: [render]
"""
TASKS = """- merge_configs:
    sources:
      - "{{ lab_neutron_role }}/templates/openvswitch_agent.ini.j2"
      - "{{ node_custom_config }}/neutron/openvswitch_agent.ini"
      - "{{ node_custom_config }}/neutron/{{ inventory_hostname }}/openvswitch_agent.ini"
    dest: "{{ lab_out }}/{{ inventory_hostname }}.ini"
    mode: "0600"
"""


class RenderFailed(RealTierUnavailable):
    """kolla-ansible ran and failed: ``line`` is its first ERROR!/fatal line, ``returncode`` its
    exit status (the lab's start reports the whole message; its kolla-ansible command the line)."""

    def __init__(self, line: str, returncode: int):
        super().__init__(f"real tier: kolla-ansible render failed: {line}")
        self.line, self.returncode = line, returncode


def render_ovs_agent_ini(kolla_dir: Path, hosts: dict[str, str], extra_vars: dict | None = None,
                         kolla_venv: str = "kolla", inventory_file: Path | None = None) -> dict[str, str]:
    """{host: ini text} for ``hosts`` ({inventory name: tunnel address}); ``kolla_dir`` holds
    globals.yml, passwords.yml, globals.d/ and config/ as on the deploy node; the inventory is
    ``inventory_file`` (default ``kolla_dir/multinode``) with the group_vars/host_vars beside it.
    ``extra_vars`` come last, as the operator's ``-e`` does. Raises RenderFailed."""
    prefix = venv(kolla_venv)
    ansible = prefix / "share/kolla-ansible/ansible"
    with tempfile.TemporaryDirectory(prefix="kolla-lab-render-") as tmp:
        work = Path(tmp)
        role = work / "roles/render"
        (role / "tasks").mkdir(parents=True)
        (role / "defaults").mkdir()
        (role / "defaults/main.yml").symlink_to(ansible / "roles/neutron/defaults/main.yml")
        (role / "tasks/main.yml").write_text(TASKS)
        for name in ("group_vars", "filter_plugins", "action_plugins", "library", "module_utils"):
            if (ansible / name).exists():
                (work / name).symlink_to(ansible / name)
        (work / "play.yml").write_text(PLAYBOOK)
        (work / "ansible.cfg").write_text("[defaults]\n")
        # local_ip differs per host: give each its address through a host_vars file beside the
        # inventory copy (an inventory host var, as the recipe says, instead of faking facts).
        inventory = work / "inventory"
        inventory.mkdir()
        source = inventory_file or kolla_dir / "multinode"
        (inventory / "multinode").write_text(source.read_text())
        for sub in ("group_vars", "host_vars"):
            if (source.parent / sub).is_dir():
                os.symlink(source.parent / sub, inventory / sub)
        argv = [str(prefix / "bin/ansible-playbook"), "-i", str(inventory / "multinode"), str(work / "play.yml"),
                "--connection=local", "-e", f"@{kolla_dir / 'globals.yml'}"]
        if (kolla_dir / "passwords.yml").is_file():        # as kolla-ansible passes it
            argv += ["-e", f"@{kolla_dir / 'passwords.yml'}"]
        if (kolla_dir / "globals.d").is_dir():
            argv += [item for p in sorted((kolla_dir / "globals.d").glob("*.yml")) for item in ("-e", f"@{p}")]
        lab_vars = {"CONFIG_DIR": str(kolla_dir), "ansible_connection": "local", "ansible_become": False,
                    "ansible_python_interpreter": str(prefix / "bin/python"),
                    "lab_neutron_role": str(ansible / "roles/neutron"), "lab_out": str(work / "out"),
                    "lab_hosts": ",".join(hosts)}
        (work / "out").mkdir()
        (work / "lab-vars.json").write_text(json.dumps({**(extra_vars or {}), **lab_vars}))
        argv += ["-e", f"@{work / 'lab-vars.json'}"]
        # tunnel_interface_address per host, as a host var of a second, tiny inventory source.
        (work / "addresses.yml").write_text(json.dumps({"all": {"hosts": {
            h: {"tunnel_interface_address": a} for h, a in hosts.items()}}}))
        argv[3:3] = ["-i", str(work / "addresses.yml")]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(ANSIBLE_HOME=str(work / "home"), ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
                   ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="8")
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL, check=False)
        result = {h: (work / "out" / f"{h}.ini").read_text() for h in hosts if (work / "out" / f"{h}.ini").is_file()}
        if done.returncode != 0 or len(result) != len(hosts):
            lines = [line.strip() for line in (done.stdout + done.stderr).splitlines()
                     if line.lstrip().startswith(("fatal:", "ERROR!", "[ERROR]"))]
            raise RenderFailed((lines or [f"kolla-ansible rendered {len(result)} of {len(hosts)} hosts"])[0][:300],
                               done.returncode or 2)
        return result

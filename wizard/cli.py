"""The headless commands and their options: ``diagnose``, ``playbooks``.

``kolla_wizard.main`` (the composition root) parses argv with ``build_parser``, starts the lab when
asked and calls these; this module never starts the lab nor the TUI.

Exit codes: 0 no fault found, 1 fault found (or a confirmed symptom no check explains:
"unexplained"), 2 usage or configuration error, 3 the diagnosis could not complete.
No traceback reaches the operator unless --debug."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Sequence

from .errors import WizardError
from .i18n import LANGUAGES, t
from .localized_argparse import ArgumentParser
from .status import ApplyStatus
from .status_labels import apply_label

DEMO_SCENARIO = "seed-homelab"


class UsageError(WizardError):
    exit_code = 2


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(t("where the cloud is"))
    g.add_argument("--demo", action="store_true",
                   help=t("run against the embedded lab's {scenario} scenario (nothing real is touched)",
                          scenario=repr(DEMO_SCENARIO)))
    g.add_argument("--lab-scenario", metavar="NAME|FILE", help=t("run against the embedded lab with this scenario"))
    g.add_argument("--lab-backend", choices=("embedded", "real"), default="embedded",
                   help=t("embedded: the simulated lab (default); real: real Keystone, Neutron, Nova, Placement, "
                          "RabbitMQ and Open vSwitch agents with Kolla's own templates (needs root and `bash .ci/real-tier-deps` once; "
                          "see docs/real-tier.md)"))
    g.add_argument("--os-cloud", metavar="NAME", default=os.environ.get("OS_CLOUD"),
                   help=t("cloud entry in clouds.yaml (default: $OS_CLOUD; OS_* variables work as in openstacksdk)"))
    g.add_argument("--inventory", metavar="PATH",
                   help=t("Kolla inventory on the deploy host (default: <kolla-config-dir>/multinode)"))
    g.add_argument("--kolla-config-dir", metavar="DIR", default="/etc/kolla",
                   help=t("Kolla config directory (default: /etc/kolla)"))
    g.add_argument("--deploy-host", metavar="HOST",
                   help=t("ssh_config alias of the deploy host, if the wizard is not running on it"))
    g.add_argument("--ssh-config", metavar="PATH", help=t("ssh client config (default: ~/.ssh/config)"))
    g.add_argument("--known-hosts", metavar="PATH", action="append", default=[], help=t("extra known_hosts file"))
    g.add_argument("--kolla-ansible", metavar="PREFIX|off", default=None,
                   help=t("venv or prefix of kolla-ansible, whose own templates then give the expected "
                          "bridge_mappings (default: found via $KOLLA_WIZARD_KOLLA_ANSIBLE_PREFIX or kolla-ansible "
                          "on PATH; 'off': the built-in model only)"))
    g.add_argument("--operator-ip", metavar="IP",
                   help=t("the address you SSH to instances from (default: the deploy host's)"))
    g.add_argument("--api-timeout", type=float, default=20.0, metavar="S", help=t("per API request timeout (default 20)"))
    g.add_argument("--ssh-timeout", type=float, default=10.0, metavar="S",
                   help=t("per node connect/command timeout (default 10)"))
    g.add_argument("--debug", action="store_true", help=t("show tracebacks and debug logs on stderr"))
    # kolla_wizard.main reads --lang from argv before this parser is built (so the help itself is
    # in that language); here it is documented and checked.
    g.add_argument("--lang", choices=LANGUAGES, default=None,
                   help=t("language of the output (default: from LC_ALL, LC_MESSAGES, LANG; ko_KR.UTF-8 -> ko, "
                          "else en)"))


def symptom_choices() -> list[str]:
    """The symptoms are the playbooks' trees, in their order, then 'all'."""
    from . import playbook
    return [tree.id for tree in playbook.catalog()] + ["all"]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="kolla-wizard",
        description=t("Troubleshooting wizard for Kolla-Ansible OpenStack clouds (ML2/OVS). "
                      "Without a command it opens the terminal UI."),
    )
    _add_connection_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("diagnose", help=t("run the diagnosis headless and print the result"))
    _add_connection_options(d)
    d.add_argument("--symptom", choices=symptom_choices(), default="all",
                   help=t("which symptom tree to walk (default: all)"))
    d.add_argument("--server", metavar="NAME|ID", help=t("the instance the symptom is about (default: chosen from the cloud)"))
    d.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help=t("output format (default: text)"))
    d.add_argument("--output", metavar="FILE", help=t("write the result to FILE instead of stdout"))
    d.add_argument("--answer", metavar="STEP=OUTCOME", action="append", default=[],
                   help=t("answer an ask step in advance (when a probe cannot run here)"))
    d.add_argument("--no-input", action="store_true",
                   help=t("never ask (default on a terminal: when a probe cannot run, ask its question on stderr)"))
    d.add_argument("--apply", metavar="REMEDY_ID", help=t("apply one remedy from the findings (needs --yes)"))
    d.add_argument("--yes", action="store_true", help=t("confirm --apply"))
    d.add_argument("--dry-run", action="store_true", help=t("with --apply: show what would change, change nothing"))
    d.add_argument("--confirm", metavar="TEXT", help=t("with --apply: the text a remedy asks you to type (e.g. the "
                                                       "host a Galera recovery bootstraps from)"))

    lab = sub.add_parser("lab", help=t("run a lab in the foreground (embedded; --backend real: the real services)"), add_help=False)
    lab.add_argument("lab_args", nargs=argparse.REMAINDER)

    pb = sub.add_parser("playbooks", help=t("validate or list the decision trees"))
    pbsub = pb.add_subparsers(dest="playbooks_command", metavar="ACTION")
    check = pbsub.add_parser("check", help=t("validate playbooks (default: the shipped ones)"))
    check.add_argument("paths", nargs="*", metavar="PATH")
    pbsub.add_parser("list", help=t("list trees, probes and remedies"))
    return parser


# -- settings ---------------------------------------------------------------------------------
def settings_from_args(args: argparse.Namespace):
    from .context import Settings
    return Settings(
        os_cloud=args.os_cloud,
        inventory=args.inventory,
        kolla_config_dir=args.kolla_config_dir,
        deploy_host=args.deploy_host,
        ssh_config=args.ssh_config,
        known_hosts=list(args.known_hosts),
        operator_ip=args.operator_ip,
        server=getattr(args, "server", None),
        api_timeout=args.api_timeout,
        ssh_timeout=args.ssh_timeout,
        answers=parse_answers(getattr(args, "answer", [])),
        kolla_ansible=getattr(args, "kolla_ansible", None),
    )


def parse_answers(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(t("--answer {item}: expected STEP=OUTCOME (e.g. agent-state=dead)", item=repr(item)))
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


# -- commands -------------------------------------------------------------------------------
def cmd_diagnose(args: argparse.Namespace, out: Callable[[str], None], settings: Any = None,
                 cloud: str | None = None) -> int:
    """Walk the trees headless. ``settings`` is what to run against (the composition root passes the
    lab's); without them, the cloud named by the options, checked first."""
    from . import runbook
    from .context import Context
    from .diagnose import run_diagnosis

    if settings is None:
        settings = settings_from_args(args)
        from .cloud import check_clouds_files
        check_clouds_files()  # a broken clouds.yaml is a configuration error: exit 2, one line
        from .cloud import check_cloud_entry
        check_cloud_entry(settings.os_cloud)  # so is a cloud name it does not define
        cloud = settings.os_cloud or t("(OS_* environment)")
    ctx = Context(settings)
    from . import playbook
    trees = playbook.trees_in_all() if args.symptom == "all" else [args.symptom]
    answerer = None
    if not args.no_input and sys.stdin.isatty():
        from .ask_prompt import terminal_answerer
        answerer = terminal_answerer(sys.stdin, sys.stderr)
    report, engine = run_diagnosis(ctx, trees, answerer=answerer)
    report.cloud = cloud or t("(OS_* environment)")
    applied: list[dict[str, Any]] = []
    code = report.exit_code()
    if args.apply:
        from .remedies.apply import apply_by_id
        if not (args.yes or args.dry_run):
            raise UsageError(t("--apply {remedy}: nothing changes without an explicit --yes (or use --dry-run)",
                               remedy=args.apply))
        result = apply_by_id(ctx, engine, report, args.apply, dry_run=args.dry_run,
                             emit=lambda l: print(l, file=sys.stderr), typed=args.confirm)
        applied.append(result.to_dict())
        print(t("apply {remedy}: {status}: {message}", remedy=args.apply, status=apply_label(result.status),
                message=result.message), file=sys.stderr)
        if result.status == ApplyStatus.VERIFIED:
            # One result: the report printed below is the verified state, and the exit code is its.
            fixed_by = next((r for f in report.findings if f.id == result.finding for r in f.remedies
                             if r.id == args.apply), None)
            report.record_fix(result.finding, result.message, durable=getattr(fixed_by, "durable", True))
            code = report.exit_code()
        elif result.status == ApplyStatus.DRY_RUN:
            pass
        else:
            code = max(code, 1)
    if args.format == "json":
        text = runbook.to_json(report)
    elif args.format == "markdown":
        text = runbook.to_markdown(report, applied=applied)
    else:
        text = runbook.to_text(report)
    if args.output:
        from .remedies.apply import write_text_atomic
        write_text_atomic(args.output, text)
        print(t("wrote {path}", path=args.output), file=sys.stderr)
    else:
        out(text)
    for problem in report.problems:
        print(t("warning: {problem}", problem=problem), file=sys.stderr)
    ctx.close()
    return code


def cmd_playbooks(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from . import playbook
    from .probes.registry import registry as probes
    from .remedies.registry import registry as remedies

    if args.playbooks_command == "list":
        trees = playbook.load_all()
        for tree in trees.values():
            out(t("tree {tree}: {steps} steps, findings: {findings}", tree=tree.id, steps=len(tree.steps),
                  findings=", ".join(tree.findings)))
        for name, spec in sorted(probes().items()):
            # The summary is registered in English (the catalog key); wizard/locale/ko.summaries.yaml
            out(f"probe {name} [{spec.requires}] -> {', '.join(spec.outcomes)}: {t(spec.summary)}")
        for name, spec in sorted(remedies().items()):
            out(f"remedy {name}: {t(spec.summary)}")
            for other in spec.also:
                if other not in remedies():
                    out(t("remedy {other}: offered with {name}", other=other, name=name))
        return 0
    if args.playbooks_command != "check":
        raise UsageError(t("playbooks: say 'check [PATH...]' or 'list'"))
    files = playbook.playbook_files(args.paths or None)
    if not files:
        raise UsageError(t("playbooks check: no *.yaml files found at {where}",
                           where=", ".join(args.paths) or str(playbook.builtin_dir())))
    errors = 0
    trees = {}
    for file in files:
        try:
            tree = playbook.load_tree(file, known_remedies=remedies())
            trees[tree.id] = tree
            out(t("ok  {file}: tree {tree}, {steps} steps, {findings} findings", file=file, tree=tree.id,
                  steps=len(tree.steps), findings=len(tree.findings)))
        except WizardError as exc:
            errors += 1
            out(f"ERR {exc.one_line()}")
    if not errors:
        try:
            playbook.load_all(args.paths or None)
        except WizardError as exc:
            errors += 1
            out(f"ERR {exc.one_line()}")
    return 2 if errors else 0

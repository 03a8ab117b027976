"""``kolla-wizard``: parse argv, start the lab if asked, point openstacksdk at it, pick the face.

The face is the Textual app (no command) or a headless command from ``wizard.cli`` (``diagnose``,
``playbooks``); ``lab`` hands its arguments to the lab's own command line. This is the only module
that imports the lab, the TUI and the core together.

Exit codes: 0 no fault found, 1 fault found (or a confirmed symptom no check explains:
"unexplained"), 2 usage or configuration error, 3 the diagnosis could not complete. No traceback reaches the operator unless --debug."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import traceback
from typing import Any, Callable, Mapping, Sequence

from wizard import cli
from wizard.context import Settings
from wizard.errors import ConfigError, WizardError
from wizard.i18n import current_language, language_from, set_language, t

DEMO_SCENARIO = cli.DEMO_SCENARIO


# -- the lab (only the composition root starts it) ------------------------------------------
def start_lab(scenario: str, backend: str = "embedded") -> Any:
    from kolla_lab import Lab, ScenarioError
    try:
        if backend == "real":
            from kolla_lab.real import RealTierUnavailable, start_real_lab
            try:
                return start_real_lab(scenario)
            except RealTierUnavailable as exc:
                raise cli.UsageError(t("--lab-backend real: {reason}", reason=exc)) from None
        lab = Lab(scenario)
    except ScenarioError as exc:   # a broken scenario file is a configuration error (exit 2)
        raise ConfigError(exc.where, exc.message, t("fix the scenario file or pick a shipped one")) from None
    lab.start()
    return lab


def settings_for_lab(lab: Any, args: argparse.Namespace) -> Settings:
    """The lab's connection files as settings; openstacksdk finds the lab's clouds.yaml by env."""
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(lab.config_dir / "clouds.yaml")
    return Settings(
        os_cloud=lab.cloud_name,
        inventory=args.inventory,
        kolla_config_dir=args.kolla_config_dir,
        deploy_host=lab.deploy_host,
        ssh_config=str(lab.config_dir / "ssh_config"),
        known_hosts=[str(lab.config_dir / "known_hosts")],
        operator_ip=args.operator_ip,
        server=getattr(args, "server", None),
        api_timeout=args.api_timeout,
        ssh_timeout=args.ssh_timeout,
        answers=cli.parse_answers(getattr(args, "answer", [])),
        kolla_ansible=getattr(args, "kolla_ansible", None),
    )


def lab_scenario(args: argparse.Namespace) -> str | None:
    if args.lab_scenario:
        return args.lab_scenario
    if args.demo:
        return DEMO_SCENARIO
    return None


# -- the faces -------------------------------------------------------------------------------
def run_diagnose(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    scenario = lab_scenario(args)
    if not scenario:
        return cli.cmd_diagnose(args, out)
    lab = start_lab(scenario, args.lab_backend)
    try:
        return cli.cmd_diagnose(args, out, settings=settings_for_lab(lab, args),
                                cloud=t("embedded lab ({scenario})", scenario=scenario))
    finally:
        lab.stop()


def run_tui(args: argparse.Namespace) -> int:
    from screens.app import run_app

    scenario = lab_scenario(args)
    if scenario:
        def make_settings():
            lab = start_lab(scenario, args.lab_backend)
            return settings_for_lab(lab, args), lab
    else:
        def make_settings():
            return cli.settings_from_args(args), None
    return run_app(make_settings, demo=bool(scenario), scenario=scenario, args=args)


def run_lab(rest: list[str]) -> int:
    # The lab has its own options; hand them over untouched.
    if "--backend=real" in rest or any(a == "--backend" and b == "real" for a, b in zip(rest, rest[1:])):
        from kolla_lab.real.cli import main as real_lab_main
        return real_lab_main([a for a in rest if a != "--backend=real"])
    from kolla_lab.cli import main as lab_main
    return lab_main(rest)


def lang_in_argv(argv: Sequence[str]) -> str | None:
    """The value of ``--lang`` wherever it stands (the language must be chosen before the parser
    is built: its help and its errors are in that language). A bad value is left to the parser."""
    value = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
    return value


def choose_language(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """``--lang ko|en``, else LC_ALL, LC_MESSAGES, LANG (a Korean locale -> ko), else English."""
    try:
        return language_from(lang_in_argv(argv), environ)
    except ValueError:   # --lang fr: the parser says so, in the language of the locale
        return language_from(None, environ)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab"]:
        return run_lab(argv[1:])
    set_language(choose_language(argv, os.environ))
    parser = cli.build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else 2
    args.lang = current_language()   # the faces read the chosen language here or from wizard.i18n
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    from wizard.logsafe import install as install_safe_logging
    install_safe_logging()   # every log line (--debug's HTTP bodies too) redacted and made inert
    if not args.debug:
        # Library warnings (keystoneauth, paramiko) are not for the operator's screen.
        logging.getLogger().setLevel(logging.CRITICAL)
    from wizard.redact import redact

    def out(text: str) -> None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")

    if args.command in ("diagnose", "playbooks"):
        # Headless: stdout and stderr themselves pass the output gate (redaction, control characters),
        # whatever writes to them. The TUI writes its own escape sequences and is left alone.
        from wizard.safetext import SafeStream
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
        try:
            return _run(args, out)
        finally:
            sys.stdout, sys.stderr = saved
    return _run(args, out)


def _run(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from wizard.redact import redact
    try:
        if args.command == "diagnose":
            return run_diagnose(args, out)
        if args.command == "playbooks":
            return cli.cmd_playbooks(args, out)
        return run_tui(args)
    except WizardError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"kolla-wizard: {redact(exc.one_line())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(t("kolla-wizard: interrupted"), file=sys.stderr)
        return 3
    except BrokenPipeError:
        # The reader went away (`... | head`): stop as a Unix filter does, silently. stdout now
        # points at /dev/null so the interpreter's final flush cannot raise again at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 128 + signal.SIGPIPE
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if args.debug:
            traceback.print_exc()
        print(t("kolla-wizard: internal error: {kind}: {error} (run with --debug for details)",
                kind=type(exc).__name__, error=redact(str(exc))), file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

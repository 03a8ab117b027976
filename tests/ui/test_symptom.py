"""Symptom screen: the symptoms in the operator's words, and the instances read from the cloud."""
from __future__ import annotations

from screens.diagnosis import DiagnosisScreen
from wizard.cloud import CloudUnreachable

from .fakes import ListCloud, make_app
from .helpers import diagnosis_screen, notifications, settle, to_symptoms


def _prompts(option_list) -> list[str]:
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]


async def test_symptoms_in_order_with_the_operators_words(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        symptoms = app.screen.query_one("#symptom-list")
        ids = [symptoms.get_option_at_index(i).id for i in range(symptoms.option_count)]
        assert ids == ["max-retries", "fip-404", "ssh-refused", "triage"]
        assert _prompts(symptoms)[0] == "› Instance goes to ERROR: Exceeded maximum number of retries"


async def test_instances_come_from_the_cloud_error_first_and_reach_the_engine(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        targets = app.screen.query_one("#target-list")
        prompts = _prompts(targets)
        assert prompts[0].startswith("(let the wizard choose")
        assert prompts[1].startswith("web-1") and "ERROR" in prompts[1]
        assert {p.split()[0] for p in prompts[2:]} == {"db-1", "cache-1"}
        assert targets.highlighted == 1                   # the instance in ERROR is preselected
        targets.highlighted = 2
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosisScreen)
        assert app.screen.target == {"server": "cache-1"}
        await settle(app, pilot, rounds=6)
        assert app.session.ctx.target == {"server": "cache-1"}
        assert app.session.report.target == {"server": "cache-1"}


async def test_network_symptom_lists_networks_and_triage_needs_no_pick(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        screen = app.screen
        screen.query_one("#symptom-list").highlighted = 1      # fip-404 applies to a network
        await settle(app, pilot)
        assert "network" in str(screen.query_one("#target-title").content)
        assert [p.split()[0] for p in _prompts(screen.query_one("#target-list"))[1:]] == ["private-net", "public"]
        screen.query_one("#symptom-list").highlighted = 3      # triage: the whole cloud
        await settle(app, pilot)
        assert not screen.query_one("#target-list").display
        assert "whole cloud" in str(screen.query_one("#target-status").content)


async def test_cloud_error_is_one_line_and_diagnosis_still_possible(tmp_path):
    messages: list = []
    app = make_app(tmp_path, cloud=ListCloud(fail=CloudUnreachable(
        "GET /v2.1/servers/detail: cannot reach https://127.0.0.1:8774 (connection refused)")))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await to_symptoms(app, pilot)
        status = str(app.screen.query_one("#target-status").content)
        assert "Could not read the list: GET /v2.1/servers/detail: cannot reach" in status
        assert "r tries again" in status
        # Said once (defect 7): in the status, in full, not again in a toast.
        assert not any("connection refused" in n for n in notifications(messages))
        status_widget = app.screen.query_one("#target-status")
        assert status_widget.size.height >= 2, "the error is clipped to one row"
        assert _prompts(app.screen.query_one("#target-list")) == []
        await pilot.press("d")
        await pilot.pause()
        assert diagnosis_screen(app).target == {}


async def test_mouse_click_on_diagnose(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        assert await pilot.click("#symptom-diagnose")
        await pilot.pause()
        assert diagnosis_screen(app).target == {"server": "web-1"}


async def test_with_no_clouds_yaml_the_error_carries_the_start_screens_hint(tmp_path):
    """Defect 7: the hint the start screen gives (put a clouds.yaml in …, or --demo) comes with it."""
    from wizard.environment import EnvItem, Environment
    from wizard.cloud import CloudError
    env = Environment(items=[EnvItem("Cloud", "(none)", "missing", "no clouds.yaml found: put one in "
                                     "~/.config/openstack/ or set OS_CLOUD, or run with --demo")])
    app = make_app(tmp_path, cloud=ListCloud(fail=CloudError("clouds.yaml: cloud None cannot be used")),
                   environment=False)
    app.services.describe = lambda *_a: env
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        status = str(app.screen.query_one("#target-status").content)
        assert status.count("Could not read the list") == 1
        assert "Hint: no clouds.yaml found" in status and "--demo" in status


async def test_the_ssh_user_is_asked_on_screen_not_as_a_cli_flag(tmp_path):
    """Defect 18: the TUI offers the choice the CLI takes as --answer ssh-user=NAME."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_symptoms(app, pilot)
        screen = app.screen
        assert not screen.query_one("#ssh-user").display          # max-retries: not asked
        screen.query_one("#symptom-list").highlighted = 2         # ssh-refused
        await settle(app, pilot)
        field = screen.query_one("#ssh-user")
        assert field.display
        field.focus()
        await pilot.press(*"rocky", "enter")
        await settle(app, pilot, rounds=4)
        assert app.session.settings.answers["ssh-user"] == "rocky"
        assert app.session.ctx.answers.get("ssh-user") == "rocky"


def test_cli_advice_is_said_the_way_the_tui_offers_it():
    from screens.wording import on_screen
    text = on_screen("Instance rocky-vm2, chosen automatically (pass --server to pick another): status ACTIVE. "
                     "Log in as: ssh rocky@10.0.0.3 (say --answer ssh-user=NAME to have the user you tried checked).")
    assert "--server" not in text and "--answer" not in text
    assert "symptom screen" in text

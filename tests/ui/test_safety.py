"""Issue 20, defects 1-3: a dialog shows its own keys (never the page behind it), the Apply dialog is
usable at 80x24, and "Apply…" is offered only on remedies the wizard can apply."""
from __future__ import annotations

from textual.widgets import Button, Footer
from textual.widgets._footer import FooterKey

from screens.finding import FindingScreen
from screens.modals import AskModal, ConfirmApply, ErrorModal, HelpModal
from wizard.findings import Remedy
from wizard.remedies.actions import FileEdit, NodeCommand

from .fakes import make_app
from .helpers import settle, to_finished_diagnosis


def footer_keys(screen) -> dict[str, str]:
    """What the footer at the bottom of ``screen`` shows: key -> description."""
    return {k.key: k.description for k in screen.query(FooterKey)}


def bottom_row_owner(app):
    """The widget the operator sees on the last row, in the middle: whose footer is it?"""
    widget, _region = app.screen.get_widget_at(app.size.width // 3, app.size.height - 1)
    return widget


async def _finding(app, pilot) -> FindingScreen:
    await to_finished_diagnosis(app, pilot)
    await pilot.press("f")
    await settle(app, pilot)
    assert isinstance(app.screen, FindingScreen)
    return app.screen


async def test_the_apply_dialog_shows_its_own_keys_not_the_finding_screens(tmp_path):
    calls = []
    app = make_app(tmp_path, answers={"agent-alive": "alive"},
                   apply=lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(AssertionError("no apply")))
    async with app.run_test(size=(80, 24)) as pilot:
        await _finding(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmApply)
        keys = footer_keys(dialog)
        assert keys.get("y") == "Apply" and keys.get("escape") == "Cancel", keys
        assert "Copy cmd" not in keys.values() and "Learn" not in keys.values(), keys
        # The last row the operator sees belongs to the dialog's own footer.
        owner = bottom_row_owner(app)
        assert owner.screen is dialog and (isinstance(owner, Footer) or isinstance(owner.parent, Footer)), owner
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingScreen) and not calls


async def test_copy_on_the_finding_screen_is_not_the_dialogs_apply_key(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _finding(app, pilot)
        keys = footer_keys(screen)
        copy_key = next(k for k, d in keys.items() if d == "Copy cmd")
        assert copy_key != "y", "the Apply dialog's y must not also mean copy on the page behind it"


async def test_every_dialog_has_its_own_footer(tmp_path):
    class Asked:
        question, command, reason = "Is the agent up?", "docker ps", "no SSH"
        choices = {"alive": "Up", "dead": "Restarting"}

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for dialog, key in ((AskModal(Asked()), "escape"), (ErrorModal("Oops", "it broke"), "escape"),
                            (HelpModal("Help", "text"), "escape")):
            app.push_screen(dialog)
            await settle(app, pilot)
            assert app.screen is dialog
            keys = footer_keys(dialog)
            own = {b.key.split(",")[0] for b in dialog.BINDINGS if b.show}
            assert own <= set(keys), (type(dialog).__name__, keys)
            assert "Continue" not in keys.values() and "Re-check" not in keys.values(), keys
            assert bottom_row_owner(app).screen is dialog
            await pilot.press(key)
            await settle(app, pilot)


def _long_remedy() -> Remedy:
    diff = "--- a/etc/kolla/globals.yml\n+++ b/etc/kolla/globals.yml\n@@ -1,40 +1,41 @@\n" + \
        "".join(f" line {i}: unchanged setting number {i}\n" for i in range(40)) + "+enable_x: yes\n"
    return Remedy(id="long", kind="file_edit", durable=True, title="Durable: a fix with a long diff",
                  explain="Long.", path="/etc/kolla/globals.yml", diff=diff,
                  command="kolla-ansible reconfigure -i /etc/kolla/multinode --limit compute01",
                  actions=[FileEdit(None, "/etc/kolla/globals.yml", "0" * 64, "x"),
                           NodeCommand(None, ["kolla-ansible", "reconfigure", "-i", "/etc/kolla/multinode"])])


async def test_the_apply_dialog_fits_80x24_buttons_reachable_text_scrolls(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        answers = []
        app.push_screen(ConfirmApply(_long_remedy()), callback=answers.append)
        await settle(app, pilot)
        dialog = app.screen
        footer_top = dialog.query_one(Footer).region.y
        for button_id in ("#confirm-apply", "#confirm-cancel"):
            button = dialog.query_one(button_id, Button)
            region = button.region
            assert region.height > 0 and region.bottom <= footer_top, (button_id, region, footer_top)
        body = dialog.query_one("#dialog-body")
        assert body.max_scroll_y > 0, "the long text should scroll inside the dialog"
        await pilot.press("down", "down", "pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        await pilot.press("tab")           # Cancel is focused first; tab reaches Apply
        await pilot.pause()
        assert dialog.focused is dialog.query_one("#confirm-apply")
        await pilot.press("escape")
        await settle(app, pilot)
        assert answers == [False]


async def test_apply_is_offered_only_on_remedies_the_wizard_can_apply(tmp_path):
    app = make_app(tmp_path, answers={"agent-alive": "alive"})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _finding(app, pilot)
        advice = screen.query_one("#remedy-2")
        assert not advice.remedy.actions
        assert not list(advice.query(Button).filter(".remedy-actions Button")) and \
            not list(advice.query("#apply-2")), "an advice-only remedy shows an Apply… button"
        # The a key does nothing there either (shown disabled in the footer).
        advice.query_one(".copy").focus()
        await pilot.pause()
        assert screen.check_action("apply", ()) is None
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingScreen)
        # The title does not stutter "Quick: …" under a QUICK FIX badge.
        assert str(advice.query_one(".remedy-title").content).startswith("Rebuild web-1")


async def test_a_remedy_that_asks_for_a_typed_name_applies_only_once_it_matches(tmp_path):
    """Issue 20: cloud-down's Galera bootstrap (Remedy.confirm) is applied only with the host typed,
    as the CLI's --confirm HOST: the dialog has a field, Apply (button and enter) works only when it
    matches, y types a letter instead of applying, and the typed text reaches apply_remedy."""
    from dataclasses import replace
    from textual.widgets import Input
    from .fakes import fake_apply
    calls: list[dict] = []

    def apply(ctx, engine, finding, remedy, **kwargs):
        calls.append(dict(kwargs))
        kwargs.pop("typed", None)
        return fake_apply(ctx, engine, finding, remedy, **kwargs)

    app = make_app(tmp_path, answers={"agent-alive": "alive"}, apply=apply)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        finding = app.session.report.findings[0]
        finding.remedies[1] = replace(finding.remedies[1], confirm="compute1")
        await pilot.press("f")
        await settle(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmApply)
        field = dialog.query_one("#confirm-typed", Input)
        button = dialog.query_one("#confirm-apply", Button)
        assert dialog.focused is field and button.disabled
        assert "y" not in footer_keys(dialog), footer_keys(dialog)   # y would be a letter of the name
        await pilot.press("y", "enter")
        await settle(app, pilot)
        assert app.screen is dialog and field.value == "y" and button.disabled and not calls
        field.value = ""
        await pilot.press(*"compute2", "enter")
        await settle(app, pilot)
        assert app.screen is dialog and button.disabled and not calls
        field.value = ""
        await pilot.press(*"compute1")
        await settle(app, pilot)
        assert not button.disabled
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
        assert isinstance(app.screen, FindingScreen)
        assert calls and calls[0]["typed"] == "compute1", calls
        assert app.session.applied[-1]["status"] == "verified"


async def test_remedies_without_a_typed_name_pass_no_typed_argument(tmp_path):
    calls: list[dict] = []
    from .fakes import fake_apply

    def apply(ctx, engine, finding, remedy, **kwargs):
        calls.append(kwargs)
        return fake_apply(ctx, engine, finding, remedy, **kwargs)

    app = make_app(tmp_path, answers={"agent-alive": "alive"}, apply=apply)
    async with app.run_test(size=(80, 24)) as pilot:
        await _finding(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert not app.screen.query("#confirm-typed")
        await pilot.press("y")
        await settle(app, pilot, rounds=5)
        assert calls and "typed" not in calls[0]


async def test_escape_in_the_typed_name_field_changes_nothing(tmp_path):
    from dataclasses import replace
    calls: list = []
    app = make_app(tmp_path, answers={"agent-alive": "alive"}, apply=lambda *a, **k: calls.append(k))
    async with app.run_test(size=(80, 24)) as pilot:
        await to_finished_diagnosis(app, pilot)
        finding = app.session.report.findings[0]
        finding.remedies[1] = replace(finding.remedies[1], confirm="compute1")
        await pilot.press("f")
        await settle(app, pilot)
        app.screen.query_one("#apply-1").focus()
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmApply)
        await pilot.press(*"compute1", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingScreen) and not calls

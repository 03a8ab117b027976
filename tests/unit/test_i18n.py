"""wizard.i18n: language choice, catalog lookup by the English text, fields inserted after lookup."""
from __future__ import annotations

import pytest
import yaml

from wizard import i18n


@pytest.fixture(autouse=True)
def _restore_language_and_catalogs():
    before = i18n.current_language()
    i18n.catalog("ko")  # load the files first, so what a test registers can be taken back
    saved = [(store, {language: dict(entries) for language, entries in store.items()})
             for store in (i18n._catalogs, i18n._registered)]
    yield
    i18n.set_language(before)
    for store, copy in saved:
        store.clear()
        store.update(copy)


@pytest.mark.parametrize(
    "cli, environ, expected",
    [
        ("ko", {"LANG": "en_US.UTF-8"}, "ko"),
        ("en", {"LANG": "ko_KR.UTF-8"}, "en"),
        ("KO", {}, "ko"),
        (None, {"LANG": "ko_KR.UTF-8"}, "ko"),
        (None, {"LANG": "ko"}, "ko"),
        (None, {"LANG": "ko_KR"}, "ko"),
        (None, {"LANG": "ko_KR.eucKR"}, "ko"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {"LANG": "kok_IN.UTF-8"}, "en"),  # Konkani starts with "ko" but is not Korean
        (None, {}, "en"),
        # LC_ALL over LC_MESSAGES over LANG: the first one set decides
        (None, {"LC_ALL": "ko_KR.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
        (None, {"LC_ALL": "C", "LC_MESSAGES": "ko_KR.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
        (None, {"LC_MESSAGES": "en_US.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
        (None, {"LC_ALL": "", "LANG": "ko_KR.UTF-8"}, "ko"),  # empty means unset
    ],
)
def test_language_from_cli_then_locale_variables(cli, environ, expected):
    assert i18n.language_from(cli, environ) == expected


def test_language_from_rejects_an_unknown_code():
    with pytest.raises(ValueError, match="'fr'"):
        i18n.language_from("fr", {})


def test_set_language_rejects_an_unknown_code():
    with pytest.raises(ValueError):
        i18n.set_language("fr")
    assert i18n.current_language() in i18n.LANGUAGES


def test_t_looks_up_the_english_key_then_inserts_fields():
    i18n.register_catalog("ko", {"Test: {host} is down": "테스트: {host} 노드가 내려갔습니다"})
    i18n.set_language("en")
    assert i18n.t("Test: {host} is down", host="compute1") == "Test: compute1 is down"
    i18n.set_language("ko")
    assert i18n.current_language() == "ko"
    assert i18n.t("Test: {host} is down", host="compute1") == "테스트: compute1 노드가 내려갔습니다"


def test_t_unknown_key_is_the_english():
    i18n.set_language("ko")
    assert i18n.t("Test: never translated {n}", n=3) == "Test: never translated 3"


def test_fields_are_never_parsed_as_format_strings():
    """A hostile name from the cloud is inserted as data, not read as a template."""
    i18n.register_catalog("ko", {"Test: router {name}": "테스트: 라우터 {name}"})
    hostile = "{name.__class__} {0} {{x}}"
    for language in i18n.LANGUAGES:
        i18n.set_language(language)
        assert i18n.t("Test: router {name}", name=hostile).endswith(hostile)


def test_literal_braces_are_doubled_in_keys():
    i18n.set_language("en")
    assert i18n.t("Test: {{literal}}") == "Test: {literal}"


def test_a_translation_with_a_wrong_placeholder_falls_back_to_english():
    i18n.register_catalog("ko", {"Test: slip {host}": "테스트: {호스트}"})
    i18n.set_language("ko")
    assert i18n.t("Test: slip {host}", host="c1") == "Test: slip c1"


def test_tr_picks_the_current_language_of_a_mapping():
    text = {"en": "Router", "ko": "라우터"}
    i18n.set_language("ko")
    assert i18n.tr(text) == "라우터"
    assert i18n.tr({"en": "Only English"}) == "Only English"
    assert i18n.tr("plain") == "plain"
    assert i18n.tr(text, "en") == "Router"
    i18n.set_language("en")
    assert i18n.tr(text) == "Router"
    assert i18n.tr(None) == ""


def test_register_catalog_checks_its_input():
    with pytest.raises(ValueError):
        i18n.register_catalog("fr", {"a": "b"})
    with pytest.raises(i18n.CatalogError):
        i18n.register_catalog("ko", {"a": 3})
    with pytest.raises(i18n.CatalogError):
        i18n.register_catalog("ko", ["a"])


def test_the_shipped_catalogs_load_and_their_placeholders_fit():
    """Every wizard/locale/<lang>*.yaml is a flat mapping of text to text whose translation uses
    only the placeholders its English key has (a slip would silently show English)."""
    files = sorted(i18n.LOCALE_DIR.glob("*.yaml"))
    assert files, "wizard/locale/ holds the catalogs"
    for language in i18n.LANGUAGES:
        for english, translated in i18n.read_catalog_files(language).items():
            assert i18n.field_names(translated) <= i18n.field_names(english), (english, translated)


def test_the_locale_files_do_not_contradict_each_other():
    """One catalog is flat: a key translated twice (wizard's files or screens') shows whichever
    registered last, everywhere."""
    screens_locale = i18n.LOCALE_DIR.parents[1] / "screens" / "locale"
    seen: dict[str, tuple[str, str]] = {}
    for path in sorted(i18n.LOCALE_DIR.glob("*.yaml")) + sorted(screens_locale.glob("*.yaml")):
        entries = i18n._check_entries(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
        for english, translated in entries.items():
            if english in seen and translated and seen[english][1] != translated:
                pytest.fail(f"{english!r}: {seen[english][0]} and {path.name} translate it differently")
            if translated:
                seen[english] = (path.name, translated)


def test_screens_style_catalog_directory_is_read_and_registered(tmp_path):
    (tmp_path / "ko.yaml").write_text('"Test: Quit": "테스트: 종료"\n', encoding="utf-8")
    (tmp_path / "ko.help.yaml").write_text('"Test: Help": "테스트: 도움말"\n', encoding="utf-8")
    (tmp_path / "kok.yaml").write_text('"Test: Help": "not Korean"\n', encoding="utf-8")
    i18n.register_catalog("ko", i18n.read_catalog_files("ko", tmp_path))
    i18n.set_language("ko")
    assert i18n.t("Test: Quit") == "테스트: 종료"
    assert i18n.t("Test: Help") == "테스트: 도움말"


def test_a_bad_catalog_file_names_itself(tmp_path):
    (tmp_path / "ko.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(i18n.CatalogError, match="ko.yaml"):
        i18n.read_catalog_files("ko", tmp_path)


def test_catalog_keys_stay_the_words_written_and_a_repeated_key_is_an_error(tmp_path):
    (tmp_path / "ko.yaml").write_text('no: 아니요\n"yes": 예\n', encoding="utf-8")
    assert i18n.read_catalog_files("ko", tmp_path) == {"no": "아니요", "yes": "예"}
    (tmp_path / "ko.yaml").write_text('"Quit": 종료\n"Quit": 끝\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"ko\.yaml:2: duplicate key 'Quit'"):
        i18n.read_catalog_files("ko", tmp_path)

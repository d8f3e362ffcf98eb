"""Every user-facing string is translated, and the shipped .mo files match their .po sources."""

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal.catalog import catalog_dirs
from portal.catalog import extract_package
from tests.conftest import log_in

PACKAGES = catalog_dirs()


def _po(package, language="zh_Hans_CN"):
    with open(package / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_marked_string_has_a_chinese_translation(package):
    catalog = _po(package)
    missing = []
    for message in extract_package(package):
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = translated.string if translated is not None else None
        if isinstance(strings, tuple):
            strings = strings[0]
        if not strings or (translated is not None and translated.fuzzy):
            missing.append(message.id)
    assert not missing, f"untranslated in {package.name}: {missing[:20]}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_compiled_catalog_matches_its_source(package):
    source = {message.id: message.string for message in _po(package) if message.id and message.string}
    with open(package / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = {message.id: message.string for message in read_mo(handle) if message.id}
    assert compiled == source, f"run `python -m portal.catalog {package.name}` to recompile"


def test_language_switch_to_english_and_back(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.get("/language/en?next=/login")
    assert "Log in" in client.get("/login").get_data(as_text=True)
    client.get("/language/zh_CN?next=/login")
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    response = client.get("/language/xx?next=/login")
    assert response.status_code == 302
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_admin_pages_are_chinese_including_flask_admin_strings(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    page = client.get("/admin/users/").get_data(as_text=True)
    assert "用户名" in page  # our column label
    assert "新建" in page or "创建" in page  # flask-admin's own "Create" link, from its catalog

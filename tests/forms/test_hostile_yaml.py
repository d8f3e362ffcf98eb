"""Malformed and hostile YAML through the API and the editor: a quick 4xx with located problems,
and the server keeps serving."""

import time

import pytest

from tests.conftest import log_in
from tests.forms.helpers import NETWORK_V1
from tests.forms.helpers import page_csrf

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8))

CASES = {
    "syntax": (NETWORK_V1.replace("title: {zh: 检查, en: Check}", "title: {zh: 检查, en: Check"), None),
    "duplicate_key": (NETWORK_V1.replace("category: inspection\n",
                                         "category: inspection\ncategory: record\n"), 6),
    "unknown_type": (NETWORK_V1.replace("type: textarea", "type: hologram"), 20),
    "cycle": (NETWORK_V1 + "  - {key: a, expr: \"b + 1\"}\n  - {key: b, expr: \"a + 1\"}\n", 34),
    "missing_sections": (NETWORK_V1.split("sections:")[0], 1),
    "missing_choice_list": (NETWORK_V1.replace("choices: status,", "choices: state,"), 18),
    "unsafe_expression": (NETWORK_V1.replace("sum(ports, 'errors')", "__import__('os')"), 33),
    "alias_bomb": (BOMB, None),
    "python_tag": ("formdef: 1\nkey: !!python/object/apply:os.system ['id']\n", 2),
    "python_name": ("formdef: !!python/name:os.system\n", 1),
    "not_a_mapping": ("- just\n- a list\n", 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_api_refuses_with_located_problems(client, admin_headers, name):
    source, line = CASES[name]
    started = time.monotonic()
    response = client.post("/api/v1/form-types", data=source.encode(), headers=admin_headers,
                           content_type="application/yaml")
    elapsed = time.monotonic() - started
    assert response.status_code == 422, response.get_json()
    details = response.get_json()["error"]["details"]
    assert details and all("message" in d for d in details)
    assert any("line" in d and "column" in d for d in details), details
    if line is not None:
        assert line in [d.get("line") for d in details], details
    assert elapsed < 2, f"{name} took {elapsed:.2f}s"
    assert client.get("/api/v1/health").status_code == 200


def test_every_problem_is_reported_at_once(client, admin_headers):
    source = (NETWORK_V1.replace("type: textarea", "type: hologram")
              .replace("choices: status,", "choices: state,")
              .replace("sum(ports, 'errors')", "sum(ports, 'nope')"))
    response = client.post("/api/v1/form-types", data=source.encode(), headers=admin_headers,
                           content_type="application/yaml")
    fields = [d["field"] for d in response.get_json()["error"]["details"]]
    assert len(fields) == 3, fields


def test_nothing_is_stored_for_a_refused_definition(client, admin_headers):
    from forms.models import FormType

    before = FormType.select().count()
    client.post("/api/v1/form-types", data=CASES["cycle"][0].encode(), headers=admin_headers,
                content_type="application/yaml")
    assert FormType.select().count() == before


def test_bad_utf8_is_refused(client, admin_headers):
    response = client.post("/api/v1/form-types", data=b"formdef: 1\nkey: \xff\xfe\n",
                           headers=admin_headers, content_type="application/yaml")
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["syntax", "duplicate_key", "unknown_type", "cycle",
                                  "alias_bomb", "python_tag", "missing_choice_list"])
def test_editor_shows_line_and_column(app, make_user, name):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    source, line = CASES[name]
    token = page_csrf(client, "/admin/form-types/new")
    started = time.monotonic()
    response = client.post("/admin/form-types/save", data={"yaml": source, "csrf_token": token})
    assert time.monotonic() - started < 2
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="problems"' in html
    assert "第 " in html and " 行，第 " in html  # Chinese "line N, column M"
    if line is not None:
        assert f'data-line="{line}"' in html
        assert f'<span class="bad">{line}</span>' in html  # the gutter marks the line
    assert client.get("/admin/form-types/").status_code == 200


def test_editor_refuses_multi_megabyte_text(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    token = page_csrf(client, "/admin/form-types/new")
    response = client.post("/admin/form-types/save",
                           data={"yaml": "a: " + "x" * (2 * 1024 * 1024), "csrf_token": token})
    assert response.status_code == 413
    response = client.post("/admin/form-types/save",
                           data={"yaml": "# " + "x" * (300 * 1024), "csrf_token": token})
    assert response.status_code == 413
    assert client.get("/admin/form-types/").status_code == 200


def test_preview_renders_the_draft_or_its_problems(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    log_in(client, admin.username)
    token = page_csrf(client, "/admin/form-types/new")
    ok = client.post("/admin/form-types/preview", data={"yaml": NETWORK_V1, "csrf_token": token})
    assert ok.status_code == 200
    html = ok.get_data(as_text=True)
    assert "网络设备检查" in html and 'name="device"' in html and 'name="ports-0-port"' in html
    bad = client.post("/admin/form-types/preview",
                      data={"yaml": CASES["unknown_type"][0], "csrf_token": token})
    assert bad.status_code == 422 and 'data-line="20"' in bad.get_data(as_text=True)
    xss = NETWORK_V1.replace("{zh: 网络设备检查, en: Network check}", "\"<script>alert(1)</script>\"")
    html = client.post("/admin/form-types/preview",
                       data={"yaml": xss, "csrf_token": token}).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert client.post("/admin/form-types/preview", data={"yaml": NETWORK_V1}).status_code == 400

"""Hostile Markdown through the API, the editor and the preview endpoint: the served HTML can run nothing."""

import re
from html.parser import HTMLParser

import pytest

from knowledge_base import service
from tests.conftest import csrf_token
from tests.knowledge_base.test_render import XSS_PAYLOADS
from tests.knowledge_base.test_render import assert_harmless

ARTICLE_RE = re.compile(r'<article class="kb-body">(.*?)</article>', re.S)


class _PageTags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.script_text = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def assert_page_harmless(page):
    """The whole page: scripts only from our static folders, no inline script, no on* attributes."""
    parser = _PageTags()
    parser.feed(page)
    assert not parser.script_text, parser.script_text
    for tag, attrs in parser.tags:
        values = dict(attrs)
        if tag == "script":
            assert values.get("src", "").startswith(("/admin/static/", "/kb/static/")), values
        for name, value in attrs:
            assert not name.startswith("on"), (tag, attrs)
            if name in ("href", "src", "action") and value:
                assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)
    match = ARTICLE_RE.search(page)
    assert match, "no article body on the page"
    assert_harmless(match.group(1))


@pytest.fixture
def engineer(make_user):
    return make_user("engineer")


@pytest.fixture
def reporter_client(client_for, make_user):
    return client_for(make_user("reporter"))


def test_every_payload_in_one_article_page(app, token_for, engineer, reporter_client):
    body = "\n\n".join(XSS_PAYLOADS)
    response = app.test_client().post("/api/v1/kb/articles", headers=token_for(engineer), json={
        "title": "<script>alert('t')</script><img src=x onerror=alert(1)>", "body_md": body,
        "tags": ['"><svg onload=alert(1)>'], "systems": ["<b onmouseover=alert(1)>HIS</b>"],
        "category": "<iframe src=javascript:alert(1)>", "summary": "<script>alert(2)</script>",
        "visibility": "public", "status": "published",
    })
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert_harmless(created["body_html"])
    page = reporter_client.get(f"/kb/{created['slug']}").get_data(as_text=True)
    assert_page_harmless(page)
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page
    for path in ("/kb/", f"/kb/?q=script", f"/kb/{created['slug']}/revisions", f"/kb/{created['slug']}/revisions/1"):
        listing = reporter_client.get(path).get_data(as_text=True)
        assert "<script>alert" not in listing and "<svg" not in listing and "<img src=x" not in listing, path


def test_each_payload_alone_on_its_article_page(in_app, engineer, reporter_client):
    for index, payload in enumerate(XSS_PAYLOADS):
        result = in_app(service.save_article, {"title": f"XSS 检查 {index}", "body_md": f"前文\n\n{payload}\n\n后文",
                                               "visibility": "public", "status": "published"}, engineer)
        page = reporter_client.get(f"/kb/{result.article.slug}").get_data(as_text=True)
        assert_page_harmless(page)


def test_diff_page_escapes_both_sides(in_app, engineer, client_for):
    article = in_app(service.save_article, {"title": "差异", "body_md": "<script>alert(1)</script>",
                                            "visibility": "public", "status": "published"}, engineer).article
    in_app(service.save_article, {"body_md": "<img src=x onerror=alert(2)>"}, engineer, article=article)
    page = client_for(engineer).get(f"/kb/{article.slug}/diff?from=1&to=2").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_preview_returns_sanitized_html(client_for, engineer):
    client = client_for(engineer)
    token = csrf_token(client)
    for payload in XSS_PAYLOADS:
        response = client.post("/kb/preview", data={"body_md": payload}, headers={"X-CSRFToken": token})
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert_harmless(response.get_json()["html"])


def test_preview_needs_csrf(client_for, engineer):
    client = client_for(engineer)
    assert client.post("/kb/preview", data={"body_md": "# x"}).status_code == 400
    assert client.post("/kb/preview", data={"body_md": "# x"}, headers={"X-CSRFToken": "forged"}).status_code == 400


def test_preview_of_oversized_text_is_refused_clearly(client_for, engineer):
    client = client_for(engineer)
    response = client.post("/kb/preview", data={"body_md": "x" * (1024 * 1024 + 1)},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 413
    assert response.get_json()["error"]

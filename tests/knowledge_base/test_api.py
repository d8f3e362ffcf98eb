"""/api/v1/kb: create, read, patch, list; fixed field names; hostile strings never give a 5xx."""

import pytest

from knowledge_base.models import Article
from knowledge_base.models import ArticleRevision
from portal.audit import AuditLog


@pytest.fixture
def engineer(make_user):
    return make_user("engineer")


@pytest.fixture
def api(app, token_for, engineer):
    client = app.test_client()
    headers = token_for(engineer)

    class Api:
        def get(self, path, **kwargs):
            return client.get("/api/v1" + path, headers=headers, **kwargs)

        def post(self, path, json):
            return client.post("/api/v1" + path, headers=headers, json=json)

        def patch(self, path, json):
            return client.patch("/api/v1" + path, headers=headers, json=json)

    return Api()


BODY = {"title": "挂号系统号源不显示", "body_md": "## 现象\n\n号源不显示", "category": "门诊挂号",
        "tags": ["挂号", "号源"], "systems": ["HIS"], "visibility": "public", "status": "published"}


def test_create_generates_a_unique_slug_and_returns_the_article(app, api):
    first = api.post("/kb/articles", BODY)
    assert first.status_code == 201
    data = first.get_json()
    for name in ("id", "slug", "title", "body_md", "body_html", "revision", "category", "tags", "systems",
                 "visibility", "status"):
        assert name in data
    assert data["revision"] == 1 and data["tags"] == ["挂号", "号源"] and data["systems"] == ["HIS"]
    assert "<h2" in data["body_html"]
    second = api.post("/kb/articles", BODY).get_json()
    assert second["slug"] != data["slug"] and second["slug"].startswith(data["slug"])
    with app.app_context():
        assert AuditLog.select().where((AuditLog.action == "create") & (AuditLog.object_type == "Article")).count() == 2


def test_explicit_slug_and_conflicts(api):
    assert api.post("/kb/articles", {**BODY, "slug": "my-slug"}).get_json()["slug"] == "my-slug"
    response = api.post("/kb/articles", {**BODY, "slug": "my-slug"})
    assert response.status_code == 409
    assert response.get_json()["error"]["details"][0]["field"] == "slug"
    for bad in ("Bad Slug", "new", "a--b", "-a", "x" * 81):
        assert api.post("/kb/articles", {**BODY, "slug": bad}).status_code == 422, bad


def test_validation_reports_every_problem(api):
    response = api.post("/kb/articles", {"title": "", "body_md": 5, "visibility": "secret", "tags": "x", "extra": 1})
    assert response.status_code == 422
    fields = {detail["field"] for detail in response.get_json()["error"]["details"]}
    assert {"title", "body_md", "visibility", "tags", "extra"} <= fields


def test_defaults_are_internal_draft(api):
    data = api.post("/kb/articles", {"title": "默认", "body_md": "x"}).get_json()
    assert (data["visibility"], data["status"]) == ("internal", "draft")


def test_get_and_patch_make_revisions(app, api):
    slug = api.post("/kb/articles", BODY).get_json()["slug"]
    assert api.get(f"/kb/articles/{slug}").get_json()["revision"] == 1
    patched = api.patch(f"/kb/articles/{slug}", {"body_md": "## 处理\n\n重启服务", "tags": ["挂号"]})
    assert patched.status_code == 200
    data = patched.get_json()
    assert data["revision"] == 2 and data["tags"] == ["挂号"] and data["title"] == BODY["title"]
    assert api.patch(f"/kb/articles/{slug}", {"body_md": "## 处理\n\n重启服务"}).get_json()["revision"] == 2
    stale = api.patch(f"/kb/articles/{slug}", {"body_md": "x", "revision": 1})
    assert stale.status_code == 409
    assert api.patch(f"/kb/articles/{slug}", {"slug": "other"}).status_code == 422
    assert api.patch("/kb/articles/no-such-article", {"body_md": "x"}).status_code == 404
    with app.app_context():
        assert ArticleRevision.select().count() == 2


def test_list_pages_with_a_cursor(api):
    for index in range(5):
        api.post("/kb/articles", {**BODY, "title": f"文章 {index}"})
    first = api.get("/kb/articles?limit=3").get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = api.get(f"/kb/articles?limit=3&cursor={first['next_cursor']}").get_json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert second["items"][0]["systems"] == ["HIS"]
    assert api.get("/kb/articles?cursor=!!!").status_code == 400


def test_related_links_must_exist(api):
    assert api.post("/kb/articles", {**BODY, "related": ["missing"]}).status_code == 422
    target = api.post("/kb/articles", BODY).get_json()["slug"]
    data = api.post("/kb/articles", {**BODY, "related": [target]}).get_json()
    assert data["related"] == [target]


def test_openapi_documents_the_kb_endpoints(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/kb/articles", "/api/v1/kb/articles/{slug}", "/api/v1/kb/search"} <= set(paths)


def test_naughty_strings_as_title_tags_and_body(app, api, blns):
    created = 0
    for index, text in enumerate(blns):
        body = {"title": text, "tags": [text], "systems": [text[:50]], "category": text[:50], "body_md": text,
                "summary": text[:500], "status": "published"}
        response = api.post("/kb/articles", body)
        assert response.status_code < 500, (index, text, response.get_data(as_text=True))
        if response.status_code == 201:
            data = response.get_json()
            assert data["title"] == text.strip()
            assert data["tags"] == [text.strip()]
            assert api.get(f"/kb/articles/{data['slug']}").status_code == 200
            created += 1
        else:
            assert response.status_code in (409, 422), response.status_code
            assert response.get_json()["error"]["message"]
        search = api.get("/kb/search", query_string={"q": text[:500]})
        assert search.status_code < 500, (index, text)
    assert created > len(blns) // 2
    with app.app_context():
        assert Article.select().count() == created

"""import-kb / export-kb: idempotent by slug, round trip, hostile files refused with reasons."""

import os
from pathlib import Path

import pytest

from knowledge_base import service
from knowledge_base import transfer
from knowledge_base.commands import export_kb
from knowledge_base.commands import import_kb
from knowledge_base.models import Article
from knowledge_base.models import ArticleRevision

GOOD = """---
title: 测试文章
slug: test-article
category: 测试
tags: [测试, 导入]
systems: [HIS]
visibility: public
status: published
---
## 现象

正文。
"""


def run(app, command, *args):
    result = app.test_cli_runner().invoke(command, [str(arg) for arg in args])
    return result.exit_code, result.output


def test_import_is_idempotent_and_reports_each_outcome(app, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text(GOOD, encoding="utf-8")
    code, output = run(app, import_kb, folder)
    assert code == 0 and "created: 1" in output
    code, output = run(app, import_kb, folder)
    assert code == 0 and "unchanged: 1" in output and "created: 0" in output
    (folder / "a.md").write_text(GOOD.replace("正文。", "新的正文。"), encoding="utf-8")
    code, output = run(app, import_kb, folder)
    assert "updated: 1" in output
    with app.app_context():
        article = Article.get(Article.slug == "test-article")
        assert article.revision == 2 and "新的正文" in article.body_md
        assert ArticleRevision.select().where(ArticleRevision.article == article.id).count() == 2


def test_starter_articles_round_trip(app, tmp_path, starter):
    out = tmp_path / "export"
    code, output = run(app, export_kb, out)
    assert code == 0 and "exported 30" in output
    assert len(list(out.glob("*.md"))) == 30
    code, output = run(app, import_kb, out)
    assert code == 0
    assert "unchanged: 30" in output and "updated: 0" in output and "created: 0" in output
    second = tmp_path / "again"
    run(app, export_kb, second)
    for path in out.glob("*.md"):
        assert (second / path.name).read_bytes() == path.read_bytes()


def test_export_then_import_into_an_emptied_database(app, tmp_path, in_app, make_user):
    engineer = make_user("engineer")
    in_app(service.save_article, {"title": "往返", "body_md": "\r\n\r\n第一行\r\n| a | b |\r\n|---|---|\r\n| 1 | 2 |",
                                  "tags": ["甲", "乙"], "systems": ["LIS"], "summary": "概要",
                                  "visibility": "public", "status": "published"}, engineer)
    out = tmp_path / "export"
    run(app, export_kb, out)
    with app.app_context():
        before = {a.slug: (service.article_meta(a), a.body_md) for a in Article.select()}
        Article.delete().execute()
    code, output = run(app, import_kb, out)
    assert "created: 1" in output
    with app.app_context():
        after = {a.slug: (service.article_meta(a), a.body_md) for a in Article.select()}
    assert after == before


HOSTILE = {
    "no-front-matter.md": ("# just markdown\n", "must start with"),
    "unclosed.md": ("---\ntitle: x\n", "not closed"),
    "bad-yaml.md": ("---\ntitle: [unclosed\n---\nbody\n", "front matter line"),
    "alias-bomb.md": ('---\na: &a ["x","x"]\nb: &b [*a,*a]\ntitle: t\n---\nbody\n', "aliases are not allowed"),
    "python-tag.md": ("---\ntitle: !!python/object/apply:os.system ['echo hi']\n---\nbody\n", "front matter"),
    "not-a-mapping.md": ("---\n- a\n- b\n---\nbody\n", "mapping"),
    "unknown-key.md": ("---\ntitle: t\nowner: me\n---\nbody\n", "unknown front matter keys"),
    "bad-slug.md": ("---\ntitle: t\nslug: ../../etc/passwd\n---\nbody\n", "slug must be"),
    "reserved-slug.md": ("---\ntitle: t\nslug: new\n---\nbody\n", "reserved"),
    "bad-visibility.md": ("---\ntitle: t\nvisibility: everyone\n---\nbody\n", "visibility must be"),
    "multiline-title.md": ('---\ntitle: "a\\nb"\n---\nbody\n', "title must be one line"),
    "control-body.md": ("---\ntitle: control\n---\nbody \x00 with NUL\n", "body_md"),
}


def test_hostile_files_are_refused_with_reasons_and_good_ones_still_load(app, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD, encoding="utf-8")
    for name, (text, _reason) in HOSTILE.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "latin1.md").write_bytes("---\ntitle: café\n---\n".encode("latin-1"))
    (folder / "huge.md").write_bytes(b"---\ntitle: big\n---\n" + b"x" * (1024 * 1024 + 10))
    (folder / "ignored.txt").write_text(GOOD, encoding="utf-8")
    os.symlink("/etc/passwd", folder / "link.md")
    (folder / "dir.md").mkdir()
    code, output = run(app, import_kb, folder)
    assert code == 1
    assert "created: 1" in output
    refused_count = len(HOSTILE) + 4
    assert f"refused: {refused_count}" in output
    for name, (_text, reason) in HOSTILE.items():
        lines = [line for line in output.splitlines() if line.strip().startswith(name + ":")]
        assert lines and any(reason in line for line in lines), (name, output)
    assert "latin1.md: the file is not UTF-8 text" in output
    assert "huge.md: the file is too large" in output
    assert "link.md: symbolic links are not followed" in output
    assert "dir.md: not a regular file" in output
    with app.app_context():
        assert [a.slug for a in Article.select()] == ["test-article"]


def test_a_file_that_fails_midway_leaves_nothing_behind(app, in_app, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text(GOOD.replace("systems: [HIS]", "systems: [HIS]\nsummary: ok"), encoding="utf-8")
    (folder / "b.md").write_text(GOOD.replace("slug: test-article", "slug: second")
                                 .replace("tags: [测试, 导入]", "tags: [测试, '']"), encoding="utf-8")
    report = in_app(transfer.import_directory, folder)
    assert report.created == ["test-article"]
    assert [name for name, _ in report.refused] == ["b.md"]
    with app.app_context():
        assert not Article.select().where(Article.slug == "second").exists()


def test_demo_loader_uses_the_importer(app, in_app):
    from knowledge_base import demo

    in_app(demo.load, app)
    with app.app_context():
        assert Article.select().count() == 30
    in_app(demo.load, app)  # idempotent
    with app.app_context():
        assert Article.select().count() == 30


def test_builtin_dir_has_the_starters():
    assert len(list(Path(transfer.builtin_articles_dir()).glob("*.md"))) == 30

"""``import-kb`` / ``export-kb``: the knowledge base as a folder of Markdown files with front matter.

Import is idempotent by slug: a file whose article exists and says the same is "unchanged",
one that differs becomes a new revision ("updated"). Each file is one transaction; a bad file
is refused with its reasons and the others still load. Export writes one ``<slug>.md`` per
article that import reads back to the same article.
"""

import os
import stat
from pathlib import Path

from knowledge_base import service
from knowledge_base.files import MAX_FILE_BYTES
from knowledge_base.files import ArticleFileError
from knowledge_base.files import dump_article_file
from knowledge_base.files import parse_article_file
from knowledge_base.models import Article
from knowledge_base.service import ArticleProblem
from knowledge_base.service import ImportReport


def import_text(name, text, report, user=None, vendor_id=None):
    """Import one file's content into *report* (never raises for bad content)."""
    try:
        meta, body = parse_article_file(text)
    except ArticleFileError as error:
        report.refused.append((name, error.errors))
        return
    data = {**meta, "body_md": body}
    existing = Article.get_or_none(Article.slug == meta["slug"])
    if existing is not None and vendor_id is not None and existing.vendor_id not in (None, vendor_id):
        report.refused.append((name, [f"slug {meta['slug']} belongs to another vendor's article"]))
        return
    try:
        if existing is None:
            result = service.save_article(data, user=user, vendor_id=vendor_id)
        else:
            data.pop("slug")
            result = service.save_article(data, user=user, article=existing)
    except ArticleProblem as problem:
        report.refused.append((name, [f"{field}: {message}" for field, message in problem.details]))
        return
    getattr(report, result.outcome).append(result.article.slug)


def import_directory(directory, user=None, vendor_id=None):
    """Import every ``*.md`` file directly inside *directory*; return an ImportReport."""
    report = ImportReport()
    folder = Path(directory)
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".md"):
            continue
        name = path.name
        try:
            info = os.lstat(path)
        except OSError as error:
            report.refused.append((name, [f"cannot read: {error.strerror}"]))
            continue
        if stat.S_ISLNK(info.st_mode):
            report.refused.append((name, ["symbolic links are not followed"]))
            continue
        if not stat.S_ISREG(info.st_mode):
            report.refused.append((name, ["not a regular file"]))
            continue
        if info.st_size > MAX_FILE_BYTES:
            report.refused.append((name, [f"the file is too large: the limit is {MAX_FILE_BYTES // 1024} KB"]))
            continue
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            report.refused.append((name, [f"cannot read: {error.strerror}"]))
            continue
        import_text(name, raw, report, user=user, vendor_id=vendor_id)
    return report


def export_directory(directory, articles=None):
    """Write one ``<slug>.md`` per article into *directory*; return the number written."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for article in articles if articles is not None else Article.select().order_by(Article.slug):
        text = dump_article_file(service.article_meta(article), article.body_md)
        target = folder / f"{article.slug}.md"
        temporary = folder / f".{article.slug}.md.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
        count += 1
    return count


def builtin_articles_dir():
    """The starter articles shipped with the product."""
    return Path(__file__).parent / "articles"

"""The starter articles plus the tokenizer find the right article for everyday queries."""

import sqlite3
from importlib import resources

import pytest

from knowledge_base.files import parse_article_file
from knowledge_base.render import render_plain
from knowledge_base.segment import FTS5_TOKENIZE
from knowledge_base.segment import fts5_match_expression
from knowledge_base.segment import to_index_string
from tests.knowledge_base.search_cases import SEARCH_CASES

TITLE_WEIGHT = 10.0


@pytest.fixture(scope="module")
def index():
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE kb USING fts5"
        f"(slug UNINDEXED, title, body, tokenize=\"{FTS5_TOKENIZE}\")"
    )
    for path in resources.files("knowledge_base").joinpath("articles").iterdir():
        if not path.name.endswith(".md"):
            continue
        meta, body = parse_article_file(path.read_text(encoding="utf-8"))
        searchable = " ".join(
            [*meta["tags"], *meta["systems"], meta["summary"], render_plain(body)]
        )
        db.execute(
            "INSERT INTO kb (slug, title, body) VALUES (?, ?, ?)",
            (meta["slug"], to_index_string(meta["title"]), to_index_string(searchable)),
        )
    yield db
    db.close()


def search(db, query, limit=3):
    expression = fts5_match_expression(query)
    if expression is None:
        return []
    rows = db.execute(
        f"SELECT slug FROM kb WHERE kb MATCH ? ORDER BY bm25(kb, 0, {TITLE_WEIGHT}, 1.0) LIMIT ?",
        (expression, limit),
    )
    return [slug for (slug,) in rows]


def test_there_are_enough_cases():
    assert len(SEARCH_CASES) >= 20


@pytest.mark.parametrize(("query", "slug"), SEARCH_CASES)
def test_query_finds_article_in_top_three(index, query, slug):
    assert slug in search(index, query)


def test_fts5_syntax_in_a_query_is_searched_as_words(index):
    assert "insurance-settlement-failure" in search(index, 'title:医保 OR "')
    assert search(index, "NEAR(挂号 医保) AND * ^ -")


def test_nonsense_finds_nothing(index):
    assert search(index, "量子纠缠") == []

"""Article files: front matter is validated strictly, round-trips, and hostile YAML is refused."""

from importlib import resources

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from knowledge_base.files import MAX_FILE_BYTES
from knowledge_base.files import SLUG_RE
from knowledge_base.files import ArticleFileError
from knowledge_base.files import dump_article_file
from knowledge_base.files import parse_article_file
from knowledge_base.files import slugify
from knowledge_base.files import unique_slug
from knowledge_base.render import render_markdown
from knowledge_base.render import render_plain

REQUIRED_SECTIONS = ("## 现象", "## 原因", "## 处理步骤", "## 预防")


def starter_articles():
    folder = resources.files("knowledge_base").joinpath("articles")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".md")), key=lambda p: p.name)


ARTICLES = starter_articles()


def test_there_are_enough_starter_articles():
    assert len(ARTICLES) >= 25


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_starter_article_is_complete(path):
    meta, body = parse_article_file(path.read_text(encoding="utf-8"))
    assert meta["slug"] == path.name.removesuffix(".md")
    assert meta["status"] == "published"
    assert meta["category"] and meta["tags"] and meta["systems"] and meta["summary"]
    positions = [body.find(section + "\n") for section in REQUIRED_SECTIONS]
    assert -1 not in positions and positions == sorted(positions), positions
    html = str(render_markdown(body))
    assert html.count("<h2 ") >= 4
    assert len(render_plain(body)) > 200


def test_starter_slugs_are_unique_and_some_are_internal():
    metas = [parse_article_file(p.read_text(encoding="utf-8"))[0] for p in ARTICLES]
    assert len({m["slug"] for m in metas}) == len(metas)
    assert 1 <= sum(m["visibility"] == "internal" for m in metas) < len(metas) // 3


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_starter_article_round_trips(path):
    meta, body = parse_article_file(path.read_text(encoding="utf-8"))
    assert parse_article_file(dump_article_file(meta, body)) == (meta, body)


one_line = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
label = st.text(one_line, min_size=1, max_size=20).filter(str.strip).map(str.strip)
labels = st.lists(label, max_size=5, unique=True)


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(one_line, min_size=1, max_size=80).filter(str.strip).map(str.strip),
    tags=labels,
    systems=labels,
    visibility=st.sampled_from(["public", "internal"]),
    status=st.sampled_from(["draft", "published"]),
    body=st.text().map(lambda b: b.replace("\r", "").lstrip("\n")),
)
def test_any_valid_article_round_trips(title, tags, systems, visibility, status, body):
    meta = {
        "title": title,
        "tags": tags,
        "systems": systems,
        "visibility": visibility,
        "status": status,
    }
    parsed_meta, parsed_body = parse_article_file(dump_article_file(meta, body))
    assert parsed_body == body
    assert {k: parsed_meta[k] for k in meta} == meta
    assert parsed_meta["slug"] == slugify(title)


def test_defaults_fail_closed():
    meta, body = parse_article_file("---\ntitle: 草稿\n---\n正文\n")
    assert meta["visibility"] == "internal" and meta["status"] == "draft"
    assert meta["tags"] == [] and meta["systems"] == [] and meta["category"] == ""
    assert body == "正文\n"


def test_windows_line_endings_and_bom_are_accepted():
    meta, body = parse_article_file("\ufeff---\r\ntitle: 打印机\r\n---\r\n\r\n## 现象\r\n")
    assert meta["title"] == "打印机" and body == "## 现象\n"


def test_bytes_are_decoded_and_non_utf8_refused():
    assert parse_article_file("---\ntitle: 挂号\n---\n".encode())[0]["title"] == "挂号"
    with pytest.raises(ArticleFileError, match="UTF-8"):
        parse_article_file("---\ntitle: 挂号\n---\n".encode("gbk"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("没有 front matter", "must start with a '---'"),
        ("---\ntitle: x\n", "not closed"),
        ("---\ncategory: 挂号\n---\n", "title is required"),
        ("---\ntitle: ''\n---\n", "title is required"),
        ("---\ntitle: 123\n---\n", "title is required and must be a non-empty string"),
        ("---\ntitle: x\nvisibility: secret\n---\n", "visibility must be one of public, internal"),
        ("---\ntitle: x\nstatus: live\n---\n", "status must be one of draft, published"),
        ("---\ntitle: x\ntags: 挂号\n---\n", "tags must be a list of strings"),
        ("---\ntitle: x\nsystems: {a: 1}\n---\n", "systems must be a list of strings"),
        ("---\ntitle: x\ntags: [1, 2]\n---\n", "tags must contain only non-empty strings"),
        ("---\ntitle: x\nslug: Bad Slug\n---\n", "slug must be lower-case"),
        ("---\ntitle: x\nvisiblity: public\n---\n", "unknown front matter keys: visiblity"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        ("---\ntitle: [unclosed\n---\n", "front matter line"),
        (
            "---\ntitle: !!python/object/apply:os.system ['id']\n---\n",
            "could not determine a constructor",
        ),
        ("---\ntitle: !!python/name:os.system\n---\n", "could not determine a constructor"),
        ("---\ntitle: x\ntags: &a [挂号]\nsystems: *a\n---\n", "aliases are not allowed"),
        ("---\ntitle: x\nsummary: " + "长" * 600 + "\n---\n", "summary must be one line of at most"),
        ("---\ntitle: \"a\\nb\"\n---\n", "title must be one line"),
        ("---\ntitle: x\ntags: [\"a\\x85b\"]\n---\n", "tags must not contain line breaks"),
    ],
)
def test_bad_front_matter_is_refused_with_a_message(text, message):
    with pytest.raises(ArticleFileError, match=message):
        parse_article_file(text)


def test_all_problems_are_reported_together():
    with pytest.raises(ArticleFileError) as info:
        parse_article_file("---\nvisibility: secret\ntags: x\n---\n")
    assert len(info.value.errors) == 3


def test_billion_laughs_is_refused_before_it_expands():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    with pytest.raises(ArticleFileError, match="aliases"):
        parse_article_file("---\n" + "\n".join(lines) + "\n---\n")


def test_huge_file_is_refused():
    with pytest.raises(ArticleFileError, match="too large"):
        parse_article_file("---\ntitle: x\n---\n" + "挂" * (MAX_FILE_BYTES // 3 + 1))


def test_huge_front_matter_is_refused_before_parsing():
    with pytest.raises(ArticleFileError, match="front matter is too long"):
        parse_article_file("---\ntitle: x\n" + "# pad\n" * 5000 + "---\n")


def test_dump_refuses_invalid_meta():
    with pytest.raises(ArticleFileError, match="visibility"):
        dump_article_file({"title": "x", "visibility": "everyone"}, "")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Printer offline", "printer-offline"),
        ("HL7", "hl7"),
        ("  Spooler: restart!  ", "spooler-restart"),
    ],
)
def test_ascii_titles_slugify_to_words(title, expected):
    assert slugify(title) == expected


def test_chinese_titles_get_a_stable_hash():
    slug = slugify("医保结算失败")
    assert slug.startswith("kb-") and len(slug) == 9
    assert slug == slugify(" 医保结算失败 ")
    assert slugify("LIS 检验结果不回传").startswith("lis-")
    assert slugify("HL7 接口报错") != slugify("HL7 消息乱码")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_title_gives_a_valid_slug(title):
    slug = slugify(title)
    assert SLUG_RE.match(slug) and len(slug) <= 80


def test_unique_slug_adds_a_counter():
    taken = {"kb-abc123", "kb-abc123-2"}
    assert unique_slug("kb-abc123", taken.__contains__) == "kb-abc123-3"
    assert unique_slug("free", taken.__contains__) == "free"

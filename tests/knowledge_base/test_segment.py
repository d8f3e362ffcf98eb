"""One tokenizer for both index backends: 2-character HIS words, Latin words and codes survive."""

import sqlite3
import threading

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from knowledge_base import segment
from knowledge_base.segment import FTS5_TOKENIZE
from knowledge_base.segment import MAX_QUERY_TERMS
from knowledge_base.segment import fts5_match_expression
from knowledge_base.segment import index_terms
from knowledge_base.segment import query_terms
from knowledge_base.segment import to_index_string


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("患者在窗口挂号失败", "挂号"),
        ("医保结算时提示交易超时", "医保"),
        ("医保结算时提示交易超时", "医保结算"),
        ("收费后发票打印不出来", "发票"),
        ("电子发票开具失败", "电子发票"),
        ("针式打印机打印错位", "打印机"),
        ("月底对账发现单边账", "单边账"),
        ("检验结果不回传", "回传"),
        ("年库迁移后查询变慢", "年库"),
        ("自助机缴费卡纸", "自助机"),
        ("叫号系统不叫号", "叫号"),
        ("电子病历模板丢失", "病历模板"),
        ("出院结算失败", "出院结算"),
        ("药房发药失败", "发药"),
        ("体检报告无法生成", "体检"),
    ],
)
def test_his_words_are_tokens(text, term):
    assert term in index_terms(text)


def test_latin_words_are_kept_whole_and_lower_cased():
    terms = index_terms("LIS 回传失败，HL7 消息异常，Printer Spooler 停止，PACS影像")
    for term in ("lis", "回传", "hl7", "printer", "spooler", "pacs", "影像"):
        assert term in terms


def test_codes_are_kept_whole_and_also_split_for_the_index():
    terms = index_terms("工单 T2026-000123 报错 ORA-12541，版本 HIS5.0。")
    assert "t2026-000123" in terms and "ora-12541" in terms and "his5.0" in terms
    assert "12541" in terms and "000123" in terms


def test_query_keeps_codes_whole():
    assert query_terms("ORA-12541") == ["ora-12541"]


def test_full_width_input_is_folded():
    assert index_terms("ＬＩＳ　ＨＬ７") == ["lis", "hl7"]


def test_punctuation_and_spaces_are_dropped():
    assert all(term.strip() and term not in "，。！？、：；（）" for term in index_terms("挂号，失败！ （医保）：退费。"))


def test_other_scripts_are_kept():
    assert "привет" in index_terms("Привет 挂号")


def test_search_mode_query_for_compound_yields_its_parts():
    assert {"医保", "结算", "医保结算"} <= set(query_terms("医保结算"))


def test_query_drops_single_characters_unless_nothing_else():
    assert "不" not in query_terms("结果不回传")
    assert query_terms("药") == ["药"]


def test_query_terms_are_capped():
    assert len(query_terms(" ".join(f"w{i}" for i in range(200)))) == MAX_QUERY_TERMS


def test_to_index_string_is_space_joined_terms():
    assert to_index_string("LIS 回传") == "lis 回传"


def fts_db(*documents):
    db = sqlite3.connect(":memory:")
    db.execute(f'CREATE VIRTUAL TABLE t USING fts5(body, tokenize="{FTS5_TOKENIZE}")')
    db.executemany("INSERT INTO t (body) VALUES (?)", [(to_index_string(d),) for d in documents])
    return db


def matches(db, query):
    expression = fts5_match_expression(query)
    if expression is None:
        return []
    rows = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank", (expression,))
    return [rowid for (rowid,) in rows]


def test_query_for_short_word_finds_compound_in_text():
    db = fts_db("门诊医保结算失败，提示交易超时", "打印机脱机")
    assert matches(db, "医保") == [1]
    assert matches(db, "医保结算") == [1]
    assert matches(db, "挂号") == []


def test_code_query_matches_whole_code_and_part():
    db = fts_db("客户端报错 ORA-12541 TNS no listener", "工单 T2026-000123 已关闭")
    assert matches(db, "ora-12541") == [1]
    assert matches(db, "12541") == [1]
    assert matches(db, "T2026-000123") == [2]
    assert matches(db, "NO LISTENER") == [1]


def test_ranking_prefers_documents_matching_more_terms():
    db = fts_db("打印机驱动安装", "LIS 检验结果不回传", "PACS 报告回传")
    assert matches(db, "LIS 回传")[0] == 2


def test_require_all_gives_and():
    assert fts5_match_expression("LIS 回传", require_all=True) == '"lis" AND "回传"'
    assert fts5_match_expression("LIS 回传") == '"lis" OR "回传"'


def test_empty_or_punctuation_query_gives_none():
    for query in ("", "   ", "，。！", "***", None):
        assert fts5_match_expression(query) is None


def test_fts5_operators_in_query_are_inert():
    db = fts_db("near and or not")
    for query in ('body:x', 'NEAR(a b)', '"unbalanced', "a* ^b -c + (d", "AND OR NOT"):
        expression = fts5_match_expression(query)
        assert expression is not None
        db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_naughty_strings_never_break_the_match_expression(blns):
    db = fts_db("医保结算", "打印机")
    for text in blns:
        expression = fts5_match_expression(text)
        assert expression is None or isinstance(expression, str)
        if expression is not None:
            db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()
        to_index_string(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_usable_expression(text):
    expression = fts5_match_expression(text)
    if expression is not None:
        db = fts_db("挂号")
        db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_tokenizer_is_built_once_across_threads(monkeypatch):
    monkeypatch.setattr(segment, "_tokenizer", None)
    built = []
    original = segment.jieba.Tokenizer

    def counting_tokenizer(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(segment.jieba, "Tokenizer", counting_tokenizer)
    results = []
    def work():
        results.append(index_terms("挂号医保"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(result == results[0] for result in results) and "挂号" in results[0]


def test_cache_goes_to_a_private_directory_not_shared_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(segment, "_tokenizer", None)
    monkeypatch.setattr(segment, "_cache_dir", None)
    segment.configure(tmp_path / "cache")
    tokenizer = segment._get_tokenizer()
    assert tokenizer.tmp_dir == str(tmp_path / "cache")
    assert any(p.name.startswith("weibao-jieba-") for p in (tmp_path / "cache").iterdir())


def test_unwritable_cache_dir_falls_back(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(segment, "_tokenizer", None)
    monkeypatch.setattr(segment, "_cache_dir", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setenv("HOME", str(blocker))
    monkeypatch.delenv("WEIBAO_CACHE_DIR", raising=False)
    monkeypatch.setattr(segment.tempfile, "tempdir", str(tmp_path))
    segment.configure(blocker / "sub")
    assert "挂号" in index_terms("挂号")
    assert segment._get_tokenizer().tmp_dir.startswith(str(tmp_path / "weibao-jieba-"))


def test_dictionary_is_shipped_and_well_formed():
    text = segment._dictionary_bytes().decode("utf-8")
    lines = [line.split() for line in text.splitlines() if line.strip()]
    assert len(lines) >= 80
    assert all(len(parts) == 3 and parts[1].isdigit() for parts in lines)
    assert len(segment.dictionary_fingerprint()) == 12

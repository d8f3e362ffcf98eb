import time

import pytest

from forms.errors import FormError
from forms.loader import MAX_BYTES
from forms.loader import load_yaml

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refused(source):
    with pytest.raises(FormError) as info:
        load_yaml(source)
    assert info.value.code == "invalid_yaml"
    return info.value.details


def test_marks_every_key_and_item_one_based():
    loaded = load_yaml("a: 1\nlist:\n  - x\n  - {k: v}\n")
    assert loaded.data == {"a": 1, "list": ["x", {"k": "v"}]}
    assert loaded.marks[("a",)] == (1, 1)
    assert loaded.marks[("list", 1)] == (4, 5)
    assert loaded.marks[("list", 1, "k")] == (4, 6)
    assert loaded.locate(("list", 1, "k", "missing")) == (4, 6)


def test_yaml_11_booleans_and_dates_stay_text():
    loaded = load_yaml("on: submit\nanswer: no\nday: 2026-01-31\nflag: true\n")
    assert loaded.data == {"on": "submit", "answer": "no", "day": "2026-01-31", "flag": True}


def test_syntax_error_is_located():
    (problem,) = refused("title: ok\nsections: [1, 2\nkey: x\n")
    assert problem.line == 3
    assert "syntax" in problem.message["en"]


def test_duplicate_keys_are_refused_with_both_lines():
    (problem,) = refused("key: a\nversion: 1\nkey: b\n")
    assert (problem.field, problem.line, problem.column) == ("key", 3, 1)
    assert "line 1" in problem.message["en"]


def test_every_duplicate_key_is_reported_at_once():
    problems = refused("a: 1\na: 2\nb: {x: 1, x: 2}\n")
    assert [p.field for p in problems] == ["a", "b.x"]


def test_billion_laughs_is_refused_fast():
    start = time.perf_counter()
    (problem,) = refused(BILLION_LAUGHS)
    assert time.perf_counter() - start < 0.5
    assert "alias" in problem.message["en"]
    assert problem.line is not None


def test_too_many_aliases_are_refused():
    source = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    (problem,) = refused(source)
    assert "aliases" in problem.message["en"]


def test_python_tags_are_refused_before_construction():
    for source in ("x: !!python/object:os.system {}\n", "x: !!python/name:os.system\n",
                   "x: !custom 1\n", "x: !!binary aGk=\n", "x: !!set {a, b}\n"):
        (problem,) = refused(source)
        assert "not allowed" in problem.message["en"]
        assert problem.line == 1


def test_multi_megabyte_document_is_refused_before_parsing():
    source = "a: " + "x" * (3 * 1024 * 1024)
    start = time.perf_counter()
    (problem,) = refused(source)
    assert time.perf_counter() - start < 0.1
    assert "too large" in problem.message["en"]
    assert len(source) > MAX_BYTES


def test_deep_nesting_is_refused():
    (problem,) = refused("[" * 5000 + "]" * 5000)
    assert "deep" in problem.message["en"]


def test_merge_keys_and_complex_keys_are_refused():
    assert "merge" in refused("a: &a {x: 1}\nb: {<<: *a}\n")[0].message["en"]
    assert "scalars" in refused("? [1, 2]\n: x\n")[0].message["en"]


def test_non_finite_numbers_and_bad_utf8_are_refused():
    assert refused("x: .nan\n")[0].field == "x"
    assert "UTF-8" in refused(b"x: \xff\xfe\n")[0].message["en"]


def test_multiple_documents_are_refused():
    assert refused("a: 1\n---\nb: 2\n")[0].line == 2

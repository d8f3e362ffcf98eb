import builtins
import datetime
import time

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from forms.errors import ExpressionError
from forms.expressions import EvalContext
from forms.expressions import Names
from forms.expressions import check
from forms.expressions import evaluate
from forms.functions import builtin_functions

FUNCTIONS = builtin_functions()
NAMES = Names(fields=frozenset({"x", "y", "kind", "tasks", "checks", "d"}),
              columns={"tasks": frozenset({"days", "task"})}, choices=frozenset({"kind"}))

HOSTILE = {
    "__import__('os')": "'_'",
    "().__class__.__bases__": "'_'",
    "open('x')": "unknown function open",
    "lambda: 1": "lambda",
    "[i for i in x]": "comprehensions",
    "{i: 1 for i in x}": "comprehensions",
    "f'{x}'": "f-strings",
    "(y := 1)": ":=",
    "[1]*10**9": "sequence repetition",
    "'a'*10**7": "sequence repetition",
    "(10**1000)**1000": "exponent too large",
    "x.__class__": "'_'",
    "getattr(x, 'y')": "unknown function getattr",
    "x[0]": "indexing",
    "{'a': 1}": "dict literals",
    "sum(*x)": "unpacking",
    "round(x, ndigits=2)": "keyword",
    "x.y": "row.x and form.x",
    "(lambda: 1)()": "only registered functions",
    "nosuch": "unknown field nosuch",
    "row.x": "inside a repeat",
    "b'x'": "constant not allowed",
    "x if": "syntax error",
    "9" * 20: "number too large",
    "x " + "+ x " * 400: "too long",
    "-" * 300 + "x": "nested too deeply",
}


@pytest.mark.parametrize("source", sorted(HOSTILE))
def test_hostile_expression_is_refused_at_save_time(source):
    with pytest.raises(ExpressionError) as info:
        check(source, NAMES, FUNCTIONS)
    assert HOSTILE[source] in info.value.message["en"], info.value.message
    assert info.value.message["zh"]


def test_arity_is_checked():
    with pytest.raises(ExpressionError, match="takes 3 arguments, got 2"):
        check("iif(x, 1)", NAMES, FUNCTIONS)
    with pytest.raises(ExpressionError, match="takes 1 or 3 arguments"):
        check("count(tasks, 'days')", NAMES, FUNCTIONS)
    with pytest.raises(ExpressionError, match="has no column 'hours'"):
        check("sum(tasks, 'hours')", NAMES, FUNCTIONS)
    with pytest.raises(ExpressionError, match="no choice list named 'colour'"):
        check("choice_attr('colour', x, 'score')", NAMES, FUNCTIONS)


def test_dependencies_are_reported():
    assert check("sum(tasks, 'days') + x * form.y", NAMES, FUNCTIONS) == ["tasks", "x", "y"]
    row_names = Names(fields=NAMES.fields, row=frozenset({"a"}))
    assert check("row.a > form.x and state == 'draft'", row_names, FUNCTIONS) == ["row.a", "x"]


def run(source, **scope):
    ctx = EvalContext(today=datetime.date(2026, 3, 2),
                      workdays_between=lambda a, b: 5, functions=FUNCTIONS,
                      form={"choices": {"kind": [{"value": "a", "label": "A", "factor": 2}]}})
    return evaluate(source, scope, ctx)


@pytest.mark.parametrize("source, scope, expected", [
    ("x + 1", {}, None),
    ("x / 0", {"x": 3}, None),
    ("x // 0", {"x": 3}, None),
    ("x % 0", {"x": 3}, None),
    ("x < 3", {}, None),
    ("x == None", {}, True),
    ("not x", {}, True),
    ("x in [1, 2]", {"x": 2}, True),
    ("'a' in x", {"x": None}, False),
    ("1 if x else 2", {"x": 0}, 2),
    ("x or 'fallback'", {"x": ""}, "fallback"),
    ("2 ** 10", {}, 1024),
    ("(-8) ** 0.5", {}, None),
    ("1 < x < 3", {"x": 2}, True),
    ("'a' + 'b'", {}, "ab"),
    ("iif(x > 1, 'big', 'small')", {"x": 2}, "big"),
    ("coalesce(x, y, 3)", {"x": None, "y": ""}, 3),
    ("empty(x)", {"x": []}, True),
    ("len(x)", {"x": "维保"}, 2),
    ("round(2.345, 2)", {}, 2.35),
    ("round(2.5)", {}, 3),
    ("min(3, x, 1)", {"x": None}, 1),
    ("max(x)", {"x": [1, 5, 2]}, 5),
    ("sum(t, 'd')", {"t": [{"d": 1.5}, {"d": None}, {"d": 2}]}, 3.5),
    ("avg(t, 'd')", {"t": [{"d": 1}, {"d": 2}]}, 1.5),
    ("avg(t, 'd')", {"t": []}, None),
    ("count(t)", {"t": [{}, {}]}, 2),
    ("count(t, 'd', 1)", {"t": [{"d": 1}, {"d": 2}]}, 1),
    ("count_value(c, 'fail')", {"c": {"a": "fail", "b": "pass", "c": "fail"}}, 2),
    ("today()", {}, "2026-03-02"),
    ("days_between('2026-01-01', '2026-03-01')", {}, 59),
    ("workdays_between(x, '2026-03-01')", {"x": "2026-02-01"}, 5),
    ("workdays_between(x, '2026-03-01')", {"x": None}, None),
    ("quarter('2026-08-15T10:00:00+08:00')", {}, 3),
    ("choice_attr('kind', 'a', 'factor')", {}, 2),
    ("choice_attr('kind', 'zz', 'factor')", {}, None),
])
def test_runtime_semantics(source, scope, expected):
    assert run(source, **scope) == expected


@pytest.mark.parametrize("source, scope, fragment", [
    ("x * 3", {"x": [1]}, "sequence repetition"),
    ("x * y", {"x": "a", "y": 10**7}, "sequence repetition"),
    ("x ** 100", {"x": 10}, "exponent too large"),
    ("x ** 20", {"x": 10}, "too large"),
    ("x * x", {"x": 10**15}, "too large"),
    ("x % 2", {"x": "%s"}, "cannot apply %"),
    ("x < 1", {"x": "a"}, "cannot compare"),
    ("days_between('soon', '2026-01-01')", {}, "ISO date"),
    ("x + 1", {"x": object()}, "unsupported value"),
])
def test_runtime_refusals(source, scope, fragment):
    with pytest.raises(ExpressionError) as info:
        run(source, **scope)
    assert fragment in info.value.message["en"]


def test_today_and_calendar_come_only_from_the_context():
    with pytest.raises(ExpressionError, match="context"):
        evaluate("today()", {}, EvalContext())
    with pytest.raises(ExpressionError, match="calendar"):
        evaluate("workdays_between('2026-01-01', '2026-01-09')", {}, EvalContext())


class Sentinel:
    """Records any use; planted in the data and over dangerous builtins."""

    calls = []

    def __call__(self, *args, **kwargs):
        Sentinel.calls.append(args)

    def __getattr__(self, name):
        Sentinel.calls.append(name)
        return self

    def __eq__(self, other):
        Sentinel.calls.append("eq")
        return False

    __hash__ = object.__hash__


TOKENS = ["x", "y", "tasks", "row", "form", "state", "value", "__import__", "__class__",
          "__bases__", "_x", "open", "eval", "exec", "getattr", "sum", "len", "max", "iif",
          "round", "today", "quarter", "count", "lambda", "for", "in", "not", "and", "or", "if",
          "else", "is", ":=", ".", ",", ":", "(", ")", "[", "]", "{", "}", "+", "-", "*", "**",
          "/", "//", "%", "<", "==", ">=", "!=", "0", "1", "2", "10", "99", "1000", "10**9",
          "9" * 30, "1e308", "0.5", "'a'", "'%s'", "''", "\"x\"", "f'{x}'", "None", "True",
          " ", "\\", "#", "@", "~", "'\\x00'", "...", "[1]", "()", "__builtins__"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40))
def test_fuzzed_expressions_only_raise_expression_error(tokens):
    source = " ".join(tokens)
    sentinel = Sentinel()
    Sentinel.calls.clear()
    scope = {"x": 3, "y": [1, 2], "tasks": [{"days": 1}], "value": sentinel}
    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "open")}
    for name in saved:
        setattr(builtins, name, sentinel)
    try:
        start = time.perf_counter()
        try:
            check(source, NAMES, FUNCTIONS)
        except ExpressionError:
            pass
        try:
            run(source, **scope)
        except ExpressionError:
            pass
        assert time.perf_counter() - start < 0.5
    finally:
        for name, original in saved.items():
            setattr(builtins, name, original)
    assert Sentinel.calls == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_raises_expression_error(source):
    try:
        run(source, x=1)
    except ExpressionError:
        pass


def test_unchecked_call_of_an_unknown_function_is_the_engines_error():
    """Found by the fuzzer: evaluating a never-checked source that calls an unregistered name."""
    with pytest.raises(ExpressionError, match="unknown function x"):
        run("x(1)")

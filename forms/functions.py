"""The expression function registry and the built-in functions of the form language.

Every function takes the EvalContext first; facts from outside the submission (today's date,
the business calendar, the form's choice lists) come only from that context.
"""

import ast
import datetime
import decimal
from dataclasses import dataclass

from portal.registry import Registry

from forms.errors import ExpressionError
from forms.errors import msg
from forms.scoring import iter_scores

_NUMBER = (int, float)


@dataclass(frozen=True)
class Function:
    """A callable usable in expressions, with its arity and an optional save-time check."""

    name: str
    impl: object
    min_args: int
    max_args: int | None
    check: object = None  # check(arg_nodes, names) -> message dict or None


def _fail(zh, en, **params):
    raise ExpressionError(msg(zh, en, **params))


def _is_empty(value):
    return value is None or value == "" or value == [] or value == {}


def _numbers(values, name):
    out = []
    for value in values:
        if value is None or value == "":
            continue
        if not isinstance(value, _NUMBER):
            _fail("{f}() 只能处理数字", "{f}() works on numbers only", f=name)
        out.append(value)
    return out


def _column(rows, column, name):
    if rows is None:
        return []
    if not isinstance(rows, list):
        _fail("{f}() 的第一个参数必须是重复节", "{f}() needs rows of a repeat section", f=name)
    if column is None:
        return rows
    if not isinstance(column, str):
        _fail("{f}() 的列名必须是文本", "{f}() needs a column name as text", f=name)
    return [row.get(column) if isinstance(row, dict) else None for row in rows]


def parse_date(value, name="date"):
    """Return the date of an ISO date or datetime string (None for empty)."""
    if _is_empty(value):
        return None
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            pass
    _fail("{f}() 需要 ISO 日期（如 2026-01-31），得到 {v!r}",
          "{f}() needs an ISO date (like 2026-01-31), got {v!r}", f=name, v=value)


def _iif(ctx, condition, then, otherwise):
    return then if condition else otherwise


def _coalesce(ctx, *values):
    return next((value for value in values if not _is_empty(value)), None)


def _empty(ctx, value):
    return _is_empty(value)


def _len(ctx, value):
    if value is None:
        return 0
    if isinstance(value, (str, list, dict)):
        return len(value)
    _fail("len() 需要文本或列表", "len() needs text or a list")


def _round(ctx, value, digits=0):
    if value is None:
        return None
    if not isinstance(value, _NUMBER) or not isinstance(digits, int) or not 0 <= digits <= 10:
        _fail("round() 需要数字和 0–10 位小数", "round() needs a number and 0-10 digits")
    rounded = decimal.Decimal(repr(value)).quantize(decimal.Decimal(1).scaleb(-digits),
                                                     rounding=decimal.ROUND_HALF_UP)
    return int(rounded) if digits == 0 else float(rounded)


def _extreme(pick, name):
    def impl(ctx, *values):
        if len(values) == 1 and isinstance(values[0], list):
            values = values[0]
        numbers = [v for v in values if v is not None and v != ""]
        if not numbers:
            return None
        kinds = {str if isinstance(v, str) else float if isinstance(v, _NUMBER) else type(v)
                 for v in numbers}
        if len(kinds) > 1 or kinds - {str, float}:
            _fail("{f}() 的参数必须同为数字或同为文本", "{f}() needs all numbers or all text", f=name)
        return pick(numbers)
    return impl


def _sum(ctx, rows, column=None):
    return sum(_numbers(_column(rows, column, "sum"), "sum"))


def _avg(ctx, rows, column=None):
    values = _numbers(_column(rows, column, "avg"), "avg")
    return sum(values) / len(values) if values else None


def _count(ctx, rows, column=None, value=None):
    if column is None:
        return len(_column(rows, None, "count"))
    return sum(1 for cell in _column(rows, column, "count") if cell == value)


def _count_value(ctx, answers, value):
    if answers is None:
        return 0
    if isinstance(answers, dict):
        answers = list(answers.values())
    if not isinstance(answers, list):
        _fail("count_value() 需要检查表或多选的值", "count_value() needs a checklist or a multiselect")
    return sum(1 for answer in answers if answer == value)


def _today(ctx):
    if ctx.today is None:
        _fail("today() 需要求值上下文提供当天日期", "today() needs the evaluation context's date")
    return ctx.today.isoformat()


def _days_between(ctx, start, end):
    start, end = parse_date(start, "days_between"), parse_date(end, "days_between")
    return None if start is None or end is None else (end - start).days


def _workdays_between(ctx, start, end):
    start, end = parse_date(start, "workdays_between"), parse_date(end, "workdays_between")
    if start is None or end is None:
        return None
    if ctx.workdays_between is None:
        _fail("workdays_between() 需要工作日历", "workdays_between() needs the business calendar")
    return int(ctx.workdays_between(start, end))


def _quarter(ctx, value):
    day = parse_date(value, "quarter")
    return None if day is None else (day.month - 1) // 3 + 1


def _choice_list(ctx, name):
    choices = (ctx.form or {}).get("choices", {})
    if name not in choices:
        _fail("没有名为 {n!r} 的选项列表", "no choice list named {n!r}", n=name)
    return choices[name]


def _choice_attr(ctx, list_name, value, attr):
    for choice in _choice_list(ctx, list_name):
        if choice["value"] == value:
            return choice.get(attr)
    return None


def _scores(ctx, chosen_only):
    """Add the chosen (or best) score of every scored field and checklist row in ctx.data."""
    return sum(iter_scores(ctx.form or {}, ctx.data or {}, ctx.hidden, chosen_only))


def _score_sum(ctx):
    return _scores(ctx, True)


def _score_max(ctx):
    return _scores(ctx, False)


def _column_check(nodes, names):
    """Check `sum(tasks, 'col')`: a repeat section name and one of its columns."""
    if names is None or len(nodes) < 2:
        return None
    rows, column = nodes[0], nodes[1]
    if not (isinstance(column, ast.Constant) and isinstance(column.value, str)):
        return msg("列名必须是带引号的文本", "the column name must be a quoted string")
    if isinstance(rows, ast.Name) and rows.id in names.columns:
        if column.value not in names.columns[rows.id]:
            return msg("重复节 {s} 没有列 {c!r}", "repeat section {s} has no column {c!r}",
                       s=rows.id, c=column.value)
    return None


def _count_check(nodes, names):
    if len(nodes) == 2:
        return msg("count() 需要 1 个或 3 个参数", "count() takes 1 or 3 arguments")
    return _column_check(nodes, names)


def _choice_check(nodes, names):
    first, last = nodes[0], nodes[2]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return msg("choice_attr() 的第一个参数必须是带引号的选项列表名",
                   "choice_attr() needs a quoted choice list name first")
    if names is not None and first.value not in names.choices:
        return msg("没有名为 {n!r} 的选项列表", "no choice list named {n!r}", n=first.value)
    if not (isinstance(last, ast.Constant) and isinstance(last.value, str)):
        return msg("choice_attr() 的属性名必须是带引号的文本", "choice_attr() needs a quoted attribute name")
    return None


BUILTINS = (
    Function("iif", _iif, 3, 3),
    Function("coalesce", _coalesce, 1, None),
    Function("empty", _empty, 1, 1),
    Function("len", _len, 1, 1),
    Function("round", _round, 1, 2),
    Function("min", _extreme(min, "min"), 1, None),
    Function("max", _extreme(max, "max"), 1, None),
    Function("sum", _sum, 1, 2, _column_check),
    Function("avg", _avg, 1, 2, _column_check),
    Function("count", _count, 1, 3, _count_check),
    Function("count_value", _count_value, 2, 2),
    Function("today", _today, 0, 0),
    Function("days_between", _days_between, 2, 2),
    Function("workdays_between", _workdays_between, 2, 2),
    Function("quarter", _quarter, 1, 1),
    Function("choice_attr", _choice_attr, 3, 3, _choice_check),
    Function("score_sum", _score_sum, 0, 0),
    Function("score_max", _score_max, 0, 0),
)


def register_builtin_functions(registry):
    """Register the built-in expression functions the way a plugin registers its own."""
    for function in BUILTINS:
        registry.add(function.name, function)
    return registry


def builtin_functions():
    """Return a fresh registry holding the built-in expression functions."""
    return register_builtin_functions(Registry("expression function"))

"""Safe expressions: a whitelisted subset of Python syntax walked over plain JSON data.

Never `eval`: the source is parsed with `ast.parse(mode="eval")`, checked node by node
against an allow-list, and evaluated by the tree walker below. Values are JSON only (None,
bool, numbers, text, lists, objects); empty operands give empty (None) results.
"""

import ast
import datetime
import functools
from dataclasses import dataclass
from dataclasses import field as dc_field

from forms.errors import ExpressionError
from forms.errors import msg
from forms.functions import builtin_functions
from forms.runtime import MAX_EXPONENT
from forms.runtime import MAX_NUMBER
from forms.runtime import Walker

MAX_LENGTH = 1000
MAX_DEPTH = 40
SCOPES = ("row", "form")

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_FORBIDDEN = {
    ast.Lambda: ("lambda 表达式", "lambda"),
    ast.ListComp: ("推导式", "comprehensions"), ast.SetComp: ("推导式", "comprehensions"),
    ast.DictComp: ("推导式", "comprehensions"), ast.GeneratorExp: ("推导式", "comprehensions"),
    ast.JoinedStr: ("f-string", "f-strings"), ast.FormattedValue: ("f-string", "f-strings"),
    ast.NamedExpr: ("赋值表达式 :=", "assignment expressions (:=)"),
    ast.Subscript: ("下标与切片", "indexing and slicing"), ast.Dict: ("字典字面量", "dict literals"),
    ast.Set: ("集合字面量", "set literals"), ast.Starred: ("* 展开", "* unpacking"),
    ast.Await: ("await", "await"), ast.Yield: ("yield", "yield"),
}


def _fail(zh, en, **params):
    raise ExpressionError(msg(zh, en, **params))


@dataclass(frozen=True)
class Names:
    """What an expression may refer to: form-level names, row fields, lists for functions."""

    fields: frozenset = frozenset()
    row: frozenset | None = None
    extra: frozenset = frozenset({"state"})
    columns: dict = dc_field(default_factory=dict)
    choices: frozenset = frozenset()


@dataclass(frozen=True)
class EvalContext:
    """Facts an evaluation may use; none come from globals."""

    today: datetime.date | None = None
    workdays_between: object = None
    functions: object = dc_field(default_factory=builtin_functions)
    form: dict | None = None
    data: dict | None = None
    hidden: frozenset = frozenset()


def parse(source):
    """Parse and structurally check *source*; return its ast.Expression or raise ExpressionError."""
    if not isinstance(source, str):
        _fail("表达式必须是文本", "an expression must be a string")
    return _parse(source)


@functools.lru_cache(maxsize=2048)
def _parse(source):
    if len(source) > MAX_LENGTH:
        _fail("表达式过长（上限 {n} 字符）", "expression too long (limit {n} characters)", n=MAX_LENGTH)
    if not source.strip():
        _fail("表达式为空", "the expression is empty")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        _fail("语法错误：{e}（第 {c} 列）", "syntax error: {e} (column {c})", e=exc.msg, c=exc.offset)
    except (ValueError, RecursionError, MemoryError):
        _fail("表达式无法解析", "the expression cannot be parsed")
    _structure(tree.body, 1)
    return tree


def _structure(node, depth):
    """Refuse every node outside the allow-list; recursion is bounded by MAX_DEPTH."""
    if depth > MAX_DEPTH:
        _fail("表达式嵌套过深（上限 {n} 层）", "expression nested too deeply (limit {n})", n=MAX_DEPTH)
    kind = type(node)
    if kind in _FORBIDDEN:
        zh, en = _FORBIDDEN[kind]
        _fail("表达式中不允许使用{w}", "not allowed in expressions: {e}", w=zh, e=en)
    children = []
    if kind is ast.Constant:
        _constant(node.value)
    elif kind in (ast.List, ast.Tuple):
        children = node.elts
    elif kind is ast.Name:
        _public(node.id)
    elif kind is ast.Attribute:
        _public(node.attr)
        if not (isinstance(node.value, ast.Name) and node.value.id in SCOPES):
            _fail("只允许 row.x 和 form.x 形式的属性", "only row.x and form.x attributes are allowed")
    elif kind is ast.BoolOp:
        children = node.values
    elif kind is ast.UnaryOp and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
        children = [node.operand]
    elif kind is ast.BinOp and type(node.op) in _BINOPS:
        _binop(node)
        children = [node.left, node.right]
    elif kind is ast.Compare and all(isinstance(op, _COMPARE) for op in node.ops):
        children = [node.left, *node.comparators]
    elif kind is ast.IfExp:
        children = [node.test, node.body, node.orelse]
    elif kind is ast.Call:
        if not isinstance(node.func, ast.Name):
            _fail("只能调用已注册的函数名", "only registered functions can be called, by name")
        _public(node.func.id)
        if node.keywords:
            _fail("不允许关键字参数", "keyword arguments are not allowed")
        children = node.args
    else:
        label = getattr(node, "op", node).__class__.__name__
        _fail("不允许的语法：{k}", "syntax not allowed in expressions: {k}", k=label)
    for child in children:
        _structure(child, depth + 1)


def _public(name):
    if name.startswith("_"):
        _fail("不允许以下划线开头的名称：{n}", "names starting with '_' are not allowed: {n}", n=name)


def _constant(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        if abs(value) > MAX_NUMBER:
            _fail("数字过大（上限 {m}）", "number too large (limit {m})", m=MAX_NUMBER)
        return
    _fail("不允许的常量 {v!r}", "constant not allowed: {v!r}", v=type(value).__name__)


def _is_sequence_literal(node):
    return isinstance(node, (ast.List, ast.Tuple)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))


def _binop(node):
    if isinstance(node.op, ast.Mult) and (
            _is_sequence_literal(node.left) or _is_sequence_literal(node.right)):
        _fail("不允许序列重复（列表或文本乘以数字）",
              "sequence repetition (a list or text times a number) is not allowed")
    if isinstance(node.op, ast.Pow):
        exponent = node.right
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.operand, ast.Constant):
            exponent = exponent.operand
        if isinstance(exponent, ast.Constant) and isinstance(exponent.value, (int, float)) \
                and abs(exponent.value) > MAX_EXPONENT:
            _fail("指数过大（上限 {n}）", "exponent too large (limit {n})", n=MAX_EXPONENT)


def check(source, names, functions):
    """Check *source* against *names* and *functions*; return its sorted dependencies.

    *names* None skips name checks (used where the names are not known yet).
    Dependencies are form-level names, plus "row.x" for row fields.
    """
    tree = parse(source)
    deps = set()
    skip = {id(n.func) for n in ast.walk(tree.body) if isinstance(n, ast.Call)}
    skip |= {id(n.value) for n in ast.walk(tree.body) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Call):
            _check_call(node, names, functions)
        elif isinstance(node, ast.Attribute):
            scope = node.value.id
            if scope == "row" and names is not None and names.row is None:
                _fail("row.x 只能用于重复节内", "row.x can only be used inside a repeat section")
            known = (names.row if scope == "row" else names.fields) if names else None
            if known is not None and node.attr not in known:
                _fail("未知字段 {s}.{n}", "unknown field {s}.{n}", s=scope, n=node.attr)
            deps.add(f"row.{node.attr}" if scope == "row" else node.attr)
        elif isinstance(node, ast.Name) and id(node) not in skip:
            if node.id in SCOPES:
                _fail("{n} 之后需要 .字段名", "{n} needs a field name after it ({n}.x)", n=node.id)
            if names is not None and node.id not in names.fields and node.id not in names.extra:
                _fail("未知字段 {n}", "unknown field {n}", n=node.id)
            if node.id not in ("state", "value"):
                deps.add(node.id)
    return sorted(deps)


def _check_call(node, names, functions):
    name = node.func.id
    if name not in functions:
        _fail("未知函数 {n}()", "unknown function {n}()", n=name)
    function = functions.get(name)
    count = len(node.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        if function.max_args is None:
            _fail("{n}() 至少需要 {a} 个参数", "{n}() takes at least {a} arguments",
                  n=name, a=function.min_args)
        span = function.min_args if function.min_args == function.max_args else \
            f"{function.min_args}–{function.max_args}"
        _fail("{n}() 需要 {a} 个参数，给了 {c} 个", "{n}() takes {a} arguments, got {c}",
              n=name, a=span, c=count)
    if function.check is not None:
        problem = function.check(node.args, names)
        if problem:
            raise ExpressionError(problem)


def compile_expression(source, names, functions):
    """Check *source* and return its compiled form {"source", "deps"}."""
    deps = check(source, names, functions)
    return {"source": source.strip(), "deps": deps}


def evaluate(source, scope, ctx):
    """Evaluate *source* over the JSON values in *scope* (a dict); raise only ExpressionError."""
    if isinstance(source, dict):
        source = source["source"]
    return Walker(scope, ctx).eval(parse(source).body)

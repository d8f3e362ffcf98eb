"""The expression tree walker: evaluates checked ASTs over JSON values, never via eval."""

import ast
import math

from forms.errors import ExpressionError
from forms.errors import msg

MAX_NUMBER = 10**15
MAX_EXPONENT = 64
MAX_TEXT = 100_000
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**"}
_JSON = (type(None), bool, int, float, str, list, dict)


def _fail(zh, en, **params):
    raise ExpressionError(msg(zh, en, **params))


def _truthy(value):
    return bool(value)


class Walker:
    """Evaluate an already checked expression tree over *scope* with *ctx*."""

    def __init__(self, scope, ctx):
        self.scope = scope
        self.ctx = ctx

    def eval(self, node):
        return getattr(self, "_" + type(node).__name__)(node)

    def _Constant(self, node):
        return node.value

    def _List(self, node):
        return [self.eval(item) for item in node.elts]

    _Tuple = _List

    def _Name(self, node):
        return _json(self.scope.get(node.id))

    def _Attribute(self, node):
        holder = self.scope.get(node.value.id)
        if node.value.id == "form" and holder is None:
            holder = self.scope
        return _json(holder.get(node.attr)) if isinstance(holder, dict) else None

    def _BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        value = None
        for item in node.values:
            value = self.eval(item)
            if _truthy(value) != is_and:
                return value
        return value

    def _UnaryOp(self, node):
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not _truthy(value)
        if value is None:
            return None
        if not isinstance(value, (int, float)):
            _fail("正负号只能用于数字", "unary + and - need a number")
        return -value if isinstance(node.op, ast.USub) else +value

    def _BinOp(self, node):
        return arithmetic(type(node.op), self.eval(node.left), self.eval(node.right))

    def _Compare(self, node):
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node)
            outcome = compare(type(op), left, right)
            if not outcome:
                return outcome
            left = right
        return True

    def _IfExp(self, node):
        return self.eval(node.body) if _truthy(self.eval(node.test)) else self.eval(node.orelse)

    def _Call(self, node):
        # Evaluation may meet a source that was never checked (a fuzzer, an old definition):
        # an unknown name is the engine's error, not the registry's.
        if node.func.id not in self.ctx.functions:
            _fail("未知函数 {n}()", "unknown function {n}()", n=node.func.id)
        function = self.ctx.functions.get(node.func.id)
        args = [self.eval(arg) for arg in node.args]
        try:
            result = function.impl(self.ctx, *args)
        except ExpressionError:
            raise
        except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError):
            _fail("{n}() 无法处理这些参数", "{n}() cannot handle these arguments", n=node.func.id)
        return _result(result)


def _json(value):
    if not isinstance(value, _JSON):
        _fail("数据中有不支持的值类型 {t}", "unsupported value type in data: {t}", t=type(value).__name__)
    return value


def _kind(value):
    return {str: "text", list: "list", dict: "object", bool: "boolean"}.get(type(value), "number")


def _result(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_NUMBER:
            _fail("结果数值过大（上限 {m}）", "result too large (limit {m})", m=MAX_NUMBER)
    elif isinstance(value, (str, list)) and len(value) > MAX_TEXT:
        _fail("结果过长（上限 {m}）", "result too long (limit {m})", m=MAX_TEXT)
    return _json(value)


def _number(value):
    return isinstance(value, (int, float))


def arithmetic(op, left, right):
    """Apply a whitelisted binary operator with the language's empty and size rules."""
    if left is None or right is None:
        return None
    symbol = _SYMBOLS[op]
    if op is ast.Add and type(left) is type(right) and isinstance(left, (str, list)):
        return _result(left + right)
    if op is ast.Mult and (isinstance(left, (str, list)) or isinstance(right, (str, list))):
        _fail("不允许序列重复", "sequence repetition is not allowed")
    if not (_number(left) and _number(right)):
        _fail("无法对{a}和{b}做 {o} 运算", "cannot apply {o} to {a} and {b}",
              a=_kind(left), b=_kind(right), o=symbol)
    if op in (ast.Div, ast.FloorDiv, ast.Mod) and right == 0:
        return None
    if op is ast.Pow:
        return _power(left, right)
    if op is ast.Add:
        return _result(left + right)
    if op is ast.Sub:
        return _result(left - right)
    if op is ast.Mult:
        return _result(left * right)
    if op is ast.Div:
        return _result(left / right)
    if op is ast.FloorDiv:
        return _result(left // right)
    return _result(left % right)


def _power(base, exponent):
    if abs(exponent) > MAX_EXPONENT:
        _fail("指数过大（上限 {n}）", "exponent too large (limit {n})", n=MAX_EXPONENT)
    if base == 0 and exponent < 0:
        return None
    if base < 0 and exponent != int(exponent):
        return None
    if abs(base) > 1 and exponent > 0 and exponent * math.log10(abs(base)) > 15:
        _fail("结果数值过大（上限 {m}）", "result too large (limit {m})", m=MAX_NUMBER)
    try:
        return _result(base ** exponent)
    except (OverflowError, ZeroDivisionError):
        return None


def compare(op, left, right):
    """Compare two values; ordering with an empty operand gives None."""
    if op in (ast.Eq, ast.NotEq):
        same = left == right
        return same if op is ast.Eq else not same
    if op in (ast.In, ast.NotIn):
        if right is None:
            found = False
        elif isinstance(right, list):
            found = left in right
        elif isinstance(right, dict):
            found = isinstance(left, str) and left in right
        elif isinstance(right, str) and isinstance(left, str):
            found = left in right
        else:
            _fail("in 的右侧必须是列表或文本", "the right side of 'in' must be a list or text")
        return found if op is ast.In else not found
    if left is None or right is None:
        return None
    if not ((_number(left) and _number(right)) or (type(left) is type(right) is str)):
        _fail("无法比较{a}和{b}", "cannot compare {a} with {b}", a=_kind(left), b=_kind(right))
    if op is ast.Lt:
        return left < right
    if op is ast.LtE:
        return left <= right
    if op is ast.Gt:
        return left > right
    return left >= right

"""Named value checks (the "validator" registry), usable in YAML as ``valid('phone', value)``.

A validator is a callable ``check(value) -> bool``; plugins add theirs with
``ctx.add_validator(name, check)`` and every form can use it at once.
"""

import ast
import ipaddress
import re

from forms.errors import ExpressionError
from forms.errors import msg
from forms.functions import Function

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,6})?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def phone(value):
    """A mainland mobile number or a landline (area code optional, extension allowed)."""
    return isinstance(value, str) and bool(_MOBILE.match(value) or _LANDLINE.match(value))


def email(value):
    return isinstance(value, str) and len(value) <= 254 and bool(_EMAIL.match(value))


def ip_address(value):
    if not isinstance(value, str) or len(value) > 64:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def id_card(value):
    """An 18-character resident identity card number with a correct check character."""
    if not isinstance(value, str) or not re.match(r"^\d{17}[\dXx]$", value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == value[17].upper()


BUILTIN_VALIDATORS = {"phone": phone, "email": email, "ip_address": ip_address, "id_card": id_card}


def valid_function(validators):
    """Return the expression function ``valid(name, value)`` reading the live *validators* registry."""

    def impl(ctx, name, value):
        if value is None or value == "":
            return None  # empty operands give empty results
        if name not in validators:
            raise ExpressionError(msg("没有名为 {n!r} 的校验器", "no validator named {n!r}", n=name))
        return bool(validators.get(name)(value))

    def check(nodes, names):
        first = nodes[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return msg("valid() 的第一个参数必须是带引号的校验器名",
                       "valid() needs a quoted validator name first")
        if first.value not in validators:
            return msg("没有名为 {n!r} 的校验器（可用：{a}）", "no validator named {n!r} (known: {a})",
                       n=first.value, a=", ".join(validators.names()))
        return None

    return Function("valid", impl, 2, 2, check)

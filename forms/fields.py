"""Field types: which keys each accepts and how a submitted value is coerced and checked.

Every type is a registry entry; built-ins register through `register_builtin_field_types`, the
same call a plugin uses. `clean()` returns the JSON value to store (None when empty) or raises
Invalid with a bilingual message.
"""

import datetime
import decimal
import functools
import re

from portal.registry import Registry

from forms.errors import msg
from forms.field_base import COMMON_KEYS
from forms.field_base import MAX_NUMBER
from forms.field_base import FieldType
from forms.field_base import Invalid
from forms.field_base import invalid
from forms.field_base import is_empty
from forms.field_base import is_number
from forms.field_base import whole
from forms.field_refs import Computed
from forms.field_refs import File
from forms.field_refs import Image
from forms.field_refs import Note
from forms.field_refs import Reference
from forms.field_refs import Signature
from forms.field_refs import SystemRef

__all__ = [
    "FieldType", "Invalid", "builtin_field_types", "is_empty", "register_builtin_field_types",
]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
# NUL and other C0 controls (but tab and line breaks), DEL and lone surrogates: no database
# stores them faithfully (PostgreSQL refuses NUL; UTF-8 refuses surrogates).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _check_numbers(spec, keys, integer=False):
    problems = []
    for key in keys:
        if key in spec and not is_number(spec[key]) or integer and key in spec and \
                not isinstance(spec[key], int):
            problems.append((key, msg("{k} 必须是数字", "{k} must be a number", k=key)))
    if not problems and "min" in spec and "max" in spec and spec["min"] > spec["max"]:
        problems.append(("max", msg("max 不能小于 min", "max must not be less than min")))
    if not problems and "step" in spec and spec["step"] <= 0:
        problems.append(("step", msg("step 必须大于 0", "step must be greater than 0")))
    return problems


class Text(FieldType):
    name = "text"
    keys = COMMON_KEYS | {"min_length", "max_length", "pattern"}
    default_max = 500

    def check_spec(self, spec):
        problems = []
        for key in ("min_length", "max_length"):
            if key in spec and not (isinstance(spec[key], int) and 0 <= spec[key] <= 100_000):
                problems.append((key, msg("{k} 必须是 0–100000 的整数", "{k} must be an integer "
                                          "from 0 to 100000", k=key)))
        if "pattern" in spec:
            pattern = spec["pattern"]
            if not isinstance(pattern, str) or len(pattern) > 200 or _compile(pattern) is None:
                problems.append(("pattern", msg("pattern 不是有效的正则表达式（上限 200 字符）",
                                                "pattern is not a valid regular expression "
                                                "(limit 200 characters)")))
        return problems

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        if not isinstance(value, str):
            invalid("必须是文本", "must be text")
        if _UNSTORABLE.search(value):
            invalid("文本含有无法保存的控制字符或无效的 Unicode",
                    "text contains control characters or invalid Unicode that cannot be stored")
        longest = spec.get("max_length", self.default_max)
        if len(value) > longest:
            invalid("不能超过 {n} 个字符", "must be at most {n} characters", n=longest)
        if len(value) < spec.get("min_length", 0):
            invalid("至少需要 {n} 个字符", "must be at least {n} characters", n=spec["min_length"])
        if spec.get("pattern") and not _compile(spec["pattern"]).fullmatch(value):
            invalid("格式不正确", "does not match the required format")
        return value


@functools.lru_cache(maxsize=256)
def _compile(pattern):
    try:
        return re.compile(pattern)
    except re.error:
        return None


class TextArea(Text):
    name = "textarea"
    keys = COMMON_KEYS | {"min_length", "max_length"}
    default_max = 5000


class Markdown(TextArea):
    name = "markdown"
    default_max = 20_000


class Integer(FieldType):
    name = "integer"
    keys = COMMON_KEYS | {"min", "max", "step", "unit"}
    integer = True

    def check_spec(self, spec):
        return _check_numbers(spec, ("min", "max", "step"), self.integer)

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        number = self._parse(value)
        if "min" in spec and number < decimal.Decimal(str(spec["min"])):
            invalid("不能小于 {n}", "must be at least {n}", n=spec["min"])
        if "max" in spec and number > decimal.Decimal(str(spec["max"])):
            invalid("不能大于 {n}", "must be at most {n}", n=spec["max"])
        if "step" in spec:
            base = decimal.Decimal(str(spec.get("min", 0)))
            if (number - base) % decimal.Decimal(str(spec["step"])) != 0:
                invalid("必须是 {s} 的整数倍", "must be a multiple of {s}", s=spec["step"])
        return int(number) if number == number.to_integral_value() else float(number)

    def _parse(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            invalid("必须是数字", "must be a number")
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            invalid("必须是数字", "must be a number")
        if not number.is_finite() or abs(number) > MAX_NUMBER:
            invalid("数字超出范围", "number out of range")
        if self.integer and number != number.to_integral_value():
            invalid("必须是整数", "must be a whole number")
        return number


class Decimal(Integer):
    name = "decimal"
    integer = False


class Boolean(FieldType):
    name = "boolean"
    _WORDS = {"true": True, "on": True, "yes": True, "1": True,
              "false": False, "off": False, "no": False, "0": False}

    def clean(self, value, spec, choices=None):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in self._WORDS:
            return self._WORDS[value.strip().lower()]
        invalid("必须是“是”或“否”", "must be true or false")


class Date(FieldType):
    name = "date"
    keys = COMMON_KEYS | {"min", "max"}
    pattern, parse, example = _DATE, datetime.date.fromisoformat, "2026-01-31"

    def check_spec(self, spec):
        problems = []
        for key in ("min", "max"):
            if key in spec and self._parse(spec[key]) is None:
                problems.append((key, msg("{k} 必须形如 {e}", "{k} must look like {e}", k=key,
                                          e=self.example)))
        return problems

    def _parse(self, value):
        if not isinstance(value, str) or not self.pattern.match(value.strip()):
            return None
        try:
            return self.parse(value.strip())
        except ValueError:
            return None

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        parsed = self._parse(value)
        if parsed is None:
            invalid("格式应为 {e}", "must look like {e}", e=self.example)
        if "min" in spec and parsed < self._parse(spec["min"]):
            invalid("不能早于 {n}", "must not be before {n}", n=spec["min"])
        if "max" in spec and parsed > self._parse(spec["max"]):
            invalid("不能晚于 {n}", "must not be after {n}", n=spec["max"])
        return parsed.isoformat()


class Time(Date):
    name = "time"
    pattern, parse, example = _TIME, datetime.time.fromisoformat, "14:30"


class DateTime(Date):
    name = "datetime"
    pattern = re.compile(
        r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$")
    parse, example = datetime.datetime.fromisoformat, "2026-01-31T14:30:00+08:00"

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        parsed = self._parse(value)
        if parsed is None:
            invalid("格式应为 {e}", "must look like {e}", e=self.example)
        return parsed.isoformat()


def _match_choice(value, choices):
    for choice in choices or ():
        known = choice["value"]
        if known == value and isinstance(known, bool) == isinstance(value, bool):
            return known
        if isinstance(value, str) and not isinstance(known, str) and str(known) == value.strip():
            return known
    invalid("{v!r} 不是可选项", "{v!r} is not one of the choices", v=value)


class Select(FieldType):
    name = "select"
    choices = "required"
    keys = COMMON_KEYS | {"choices"}

    def clean(self, value, spec, choices=None):
        if value is None or value == "":
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            invalid("必须是一个可选项", "must be one of the choices")
        return _match_choice(value, choices)


class Radio(Select):
    name = "radio"


class MultiSelect(Select):
    name = "multiselect"
    keys = COMMON_KEYS | {"choices", "min", "max"}

    def check_spec(self, spec):
        return _check_numbers(spec, ("min", "max"), integer=True)

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        if not isinstance(value, list):
            invalid("必须是选项列表", "must be a list of choices")
        chosen = []
        for item in value:
            item = super().clean(item, spec, choices)
            if item is not None and item not in chosen:
                chosen.append(item)
        if len(chosen) < spec.get("min", 0):
            invalid("至少选择 {n} 项", "choose at least {n}", n=spec["min"])
        if "max" in spec and len(chosen) > spec["max"]:
            invalid("最多选择 {n} 项", "choose at most {n}", n=spec["max"])
        return chosen or None


class Rating(Select):
    name = "rating"
    choices = "optional"
    keys = COMMON_KEYS | {"choices", "max"}

    def check_spec(self, spec):
        if "max" in spec and not (isinstance(spec["max"], int) and 2 <= spec["max"] <= 10):
            return [("max", msg("max 必须是 2–10 的整数", "max must be an integer from 2 to 10"))]
        return []

    def clean(self, value, spec, choices=None):
        if choices:
            return super().clean(value, spec, choices)
        if value is None or value == "":
            return None
        top = spec.get("max", 5)
        number = whole(value)
        if number is None or not 1 <= number <= top:
            invalid("评分必须是 1–{n} 的整数", "the rating must be a whole number from 1 to {n}", n=top)
        return number


BUILTIN_TYPES = (Text, TextArea, Markdown, Integer, Decimal, Boolean, Date, Time, DateTime, Select,
                 Radio, MultiSelect, Rating, Reference, SystemRef, File, Image, Signature, Computed,
                 Note)


def register_builtin_field_types(registry):
    """Register the built-in field types the way a plugin registers its own."""
    for kind in BUILTIN_TYPES:
        registry.add(kind.name, kind())
    return registry


def builtin_field_types():
    """Return a fresh registry holding the built-in field types."""
    return register_builtin_field_types(Registry("field type"))

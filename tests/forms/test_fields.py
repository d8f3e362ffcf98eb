import pytest

from portal.registry import DuplicateName
from portal.registry import Registry

from forms.fields import FieldType
from forms.fields import Invalid
from forms.fields import builtin_field_types
from forms.fields import register_builtin_field_types
from forms.functions import builtin_functions

TYPES = builtin_field_types()
CHOICES = [{"value": "a", "label": "A"}, {"value": 2, "label": "Two"}]
REF = {"id": "f-1", "name": "report.pdf", "size": 10, "content_type": "application/pdf"}


def clean(kind, value, spec=None, choices=None):
    choices = choices if kind in ("select", "multiselect") else None
    return TYPES.get(kind).clean(value, spec or {}, choices)


@pytest.mark.parametrize("kind, value, spec, expected", [
    ("text", "  ", {}, None),
    ("text", "HIS", {"pattern": "[A-Z]+"}, "HIS"),
    ("integer", "42", {}, 42),
    ("integer", 4.0, {"step": 2}, 4),
    ("decimal", "0.75", {"min": 0.25, "step": 0.25}, 0.75),
    ("boolean", "on", {}, True),
    ("date", "2026-02-28", {"min": "2026-01-01"}, "2026-02-28"),
    ("time", "09:30", {}, "09:30:00"),
    ("datetime", "2026-03-02T09:10:00+08:00", {}, "2026-03-02T09:10:00+08:00"),
    ("select", "2", {}, 2),
    ("multiselect", ["a", 2, "a"], {}, ["a", 2]),
    ("rating", "4", {}, 4),
    ("user", "12", {}, 12),
    ("file", REF, {"accept": [".pdf"]}, [REF]),
    ("signature", {**REF, "content_type": "image/png"}, {}, {**REF, "content_type": "image/png"}),
])
def test_values_are_coerced(kind, value, spec, expected):
    assert clean(kind, value, spec, CHOICES) == expected


@pytest.mark.parametrize("kind, value, spec, fragment", [
    ("text", "x" * 501, {}, "at most 500"),
    ("text", "abc", {"pattern": "[0-9]+"}, "format"),
    ("text", 5, {}, "must be text"),
    ("integer", "1.5", {}, "whole number"),
    ("integer", True, {}, "number"),
    ("integer", "1e400", {}, "out of range"),
    ("decimal", "nan", {}, "out of range"),
    ("decimal", 7, {"max": 5}, "at most 5"),
    ("boolean", "maybe", {}, "true or false"),
    ("date", "2026-02-30", {}, "2026-01-31"),
    ("date", "20260201", {}, "2026-01-31"),
    ("select", "z", {}, "not one of the choices"),
    ("multiselect", "a", {}, "list"),
    ("rating", 6, {}, "1 to 5"),
    ("user", -1, {}, "valid id"),
    ("file", [REF, REF], {"max_files": 1}, "at most 1"),
    ("file", {**REF, "size": 5 * 1024 * 1024}, {"max_size_mb": 1}, "1 MB"),
    ("image", REF, {}, "not accepted"),
    ("file", {**REF, "path": "/etc/passwd"}, {}, "file reference"),
])
def test_bad_values_are_refused(kind, value, spec, fragment):
    with pytest.raises(Invalid) as info:
        clean(kind, value, spec, CHOICES)
    assert fragment in info.value.message["en"]


def test_builtins_register_like_plugins_and_refuse_duplicates():
    registry = Registry("field type")

    class Phone(FieldType):
        name = "phone"

    registry.add("phone", Phone())
    register_builtin_field_types(registry)
    assert registry.names()[0] == "phone" and "signature" in registry
    with pytest.raises(DuplicateName):
        register_builtin_field_types(registry)
    assert "score_sum" in builtin_functions()


def test_spec_checks_report_bad_keys():
    assert TYPES.get("decimal").check_spec({"min": 5, "max": 1})[0][0] == "max"
    assert TYPES.get("text").check_spec({"pattern": "("})[0][0] == "pattern"
    assert TYPES.get("file").check_spec({"max_files": 0})[0][0] == "max_files"
    assert TYPES.get("rating").check_spec({"max": 100})[0][0] == "max"

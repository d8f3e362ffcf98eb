"""Field types that refer to things outside the submission, checked for shape only.

Users and systems are positive integer ids; files, images and signatures are stored-file
references {"id", "name", "size", "content_type"}. The app layer checks that they exist.
"""

import re

from forms.errors import msg
from forms.field_base import DISPLAY_KEYS
from forms.field_base import COMMON_KEYS
from forms.field_base import MAX_NUMBER
from forms.field_base import FieldType
from forms.field_base import invalid
from forms.field_base import is_empty
from forms.field_base import is_number
from forms.field_base import whole

_FILE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_REF_KEYS = {"id": str, "name": str, "size": int, "content_type": str, "sha256": str}


class Reference(FieldType):
    """A user or system, by positive integer id."""

    name = "user"

    def clean(self, value, spec, choices=None):
        if value is None or value == "":
            return None
        number = whole(value)
        if number is None or number <= 0 or number > MAX_NUMBER:
            invalid("必须是有效的编号", "must be a valid id")
        return number


class SystemRef(Reference):
    name = "system"


def clean_file_ref(value, accept=(), max_size_mb=None):
    """Check a stored-file reference {"id", "name", "size", "content_type"}; return it."""
    if not isinstance(value, dict) or set(value) - set(_REF_KEYS) \
            or not {"id", "name"} <= set(value):
        invalid("文件引用格式不正确", "a file reference needs id and name (and size, content_type)")
    for key, kind in _REF_KEYS.items():
        if key in value and (not isinstance(value[key], kind) or isinstance(value[key], bool)):
            invalid("文件引用的 {k} 类型不正确", "the file reference's {k} has the wrong type", k=key)
    if not _FILE_ID.match(value["id"]) or not 0 < len(value["name"]) <= 255:
        invalid("文件引用的 id 或文件名不正确", "the file reference's id or name is not valid")
    if max_size_mb is not None and value.get("size", 0) > max_size_mb * 1024 * 1024:
        invalid("文件不能超过 {n} MB", "a file must be at most {n} MB", n=max_size_mb)
    if accept and not any(_accepts(rule, value) for rule in accept):
        invalid("不接受此类文件", "this kind of file is not accepted")
    return dict(value)


def _accepts(rule, ref):
    content_type = ref.get("content_type", "")
    if rule.startswith("."):
        return ref["name"].lower().endswith(rule.lower())
    if rule.endswith("/*"):
        return content_type.startswith(rule[:-1])
    return content_type == rule


class File(FieldType):
    name = "file"
    keys = COMMON_KEYS | {"accept", "max_files", "max_size_mb"}
    default_accept = ()

    def check_spec(self, spec):
        problems = []
        accept = spec.get("accept", [])
        if not isinstance(accept, list) or not all(isinstance(a, str) and a for a in accept):
            problems.append(("accept", msg("accept 必须是文本列表", "accept must be a list of strings")))
        most = spec.get("max_files", 1)
        if not (isinstance(most, int) and not isinstance(most, bool) and 1 <= most <= 50):
            problems.append(("max_files", msg("max_files 必须是 1–50", "max_files must be 1 to 50")))
        size = spec.get("max_size_mb", 1)
        if not is_number(size) or not 0 < size <= 100:
            problems.append(("max_size_mb", msg("max_size_mb 必须在 0–100 之间",
                                                "max_size_mb must be above 0 and at most 100")))
        return problems

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        refs = value if isinstance(value, list) else [value]
        limit = spec.get("max_files", 1)
        if len(refs) > limit:
            invalid("最多上传 {n} 个文件", "at most {n} files", n=limit)
        accept = spec.get("accept") or self.default_accept
        return [clean_file_ref(ref, accept, spec.get("max_size_mb")) for ref in refs]


class Image(File):
    name = "image"
    default_accept = ("image/*",)


class Signature(FieldType):
    name = "signature"

    def clean(self, value, spec, choices=None):
        if is_empty(value):
            return None
        return clean_file_ref(value, ("image/*",))


class Computed(FieldType):
    name = "computed"
    keys = DISPLAY_KEYS | {"expr", "store", "unit"}
    has_value = False


class Note(FieldType):
    name = "note"
    keys = DISPLAY_KEYS
    has_value = False

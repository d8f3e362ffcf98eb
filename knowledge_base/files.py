"""Article files: Markdown with YAML front matter, as used by ``import-kb`` / ``export-kb``.

A file looks like::

    ---
    title: 挂号时号源不显示
    slug: registration-slots-missing
    category: 门诊挂号
    tags: [挂号, 号源]
    systems: [HIS]
    visibility: public
    status: published
    ---
    ## 现象
    ...

Missing ``visibility`` means ``internal`` and missing ``status`` means ``draft``: a file whose
author forgot them is never shown to hospital users by accident.
"""

import hashlib
import re
import unicodedata

import yaml

#: Largest article file accepted, in UTF-8 bytes.
MAX_FILE_BYTES = 1024 * 1024
#: Largest front matter block accepted, in characters (checked before YAML parses it).
MAX_FRONT_MATTER_CHARS = 16 * 1024

VISIBILITIES = ("public", "internal")
STATUSES = ("draft", "published")
FIELDS = ("title", "slug", "category", "tags", "systems", "visibility", "status", "summary")

MAX_TITLE_CHARS = 200
MAX_LABEL_CHARS = 50
MAX_LIST_ITEMS = 30
MAX_SUMMARY_CHARS = 500

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_CHARS = 80
_ASCII_WORD_RE = re.compile(r"[a-z0-9]+")
_DELIMITER_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def has_control_characters(value):
    """Tell whether a one-line value holds line breaks, other control characters or surrogates."""
    # Line breaks (including NEL and U+2028) and other controls do not survive a YAML
    # round trip in one-line fields, and have no place in a title or a tag anyway.
    return any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value)


class ArticleFileError(ValueError):
    """An article file that cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader without anchors/aliases: they are the YAML billion-laughs vector."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ArticleFileError(
                [f"front matter line {event.start_mark.line + 1}: YAML aliases are not allowed"]
            )
        return super().compose_node(parent, index)


def slugify(title):
    """Make a URL-safe slug from a title: its ASCII words, plus a stable hash for Chinese.

    There is no pinyin library in the stack, so Chinese characters cannot be transliterated.
    Instead the slug keeps the title's ASCII words (often the system: "LIS", "HL7") and, when
    the title has anything else, adds six hex digits of a hash of the whole title:
    "LIS 结果不回传" -> "lis-5d0c3e", "医保结算失败" -> "kb-1a2b3c". Equal titles give equal
    slugs; callers make a colliding slug unique with ``unique_slug``.
    """
    normalised = unicodedata.normalize("NFKC", title).strip().lower()
    words = _ASCII_WORD_RE.findall(normalised)
    base = "-".join(words)[:MAX_SLUG_CHARS - 7].strip("-")
    rest = _ASCII_WORD_RE.sub("", normalised)
    if base and not re.search(r"[^\W_]", rest):
        return base
    digest = hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{base or 'kb'}-{digest}"


def unique_slug(slug, is_taken):
    """Return slug, or slug-2, slug-3 … — the first that ``is_taken(candidate)`` says is free."""
    candidate, n = slug, 1
    while is_taken(candidate):
        n += 1
        candidate = f"{slug[:MAX_SLUG_CHARS - len(str(n)) - 1]}-{n}"
    return candidate


def _split(text):
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first, _, rest = text.partition("\n")
    if first.rstrip() != "---":
        raise ArticleFileError(["the file must start with a '---' line opening the front matter"])
    closing = _DELIMITER_RE.search(rest)
    if closing is None:
        raise ArticleFileError(["the front matter is not closed by a '---' line"])
    front = rest[: closing.start()]
    if len(front) > MAX_FRONT_MATTER_CHARS:
        raise ArticleFileError(
            [f"the front matter is too long: the limit is {MAX_FRONT_MATTER_CHARS} characters"]
        )
    body = rest[closing.end():].lstrip("\n")
    return front, body


def _load_yaml(front):
    try:
        meta = yaml.load(front, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else "?"
        raise ArticleFileError([f"front matter line {line}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ArticleFileError([f"front matter is not valid YAML: {exc}"]) from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ArticleFileError(["the front matter must be a mapping of keys to values"])
    return meta


def _check_label_list(meta, key, errors):
    value = meta.get(key, [])
    if not isinstance(value, list):
        errors.append(f"{key} must be a list of strings, e.g. {key}: [挂号, 医保]")
        return []
    if len(value) > MAX_LIST_ITEMS:
        errors.append(f"{key} has more than {MAX_LIST_ITEMS} items")
    labels = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            errors.append(f"{key} must contain only non-empty strings, not {item!r}")
        elif has_control_characters(item):
            errors.append(f"{key} must not contain line breaks or control characters: {item!r}")
        elif len(item) > MAX_LABEL_CHARS:
            errors.append(f"{key} item is longer than {MAX_LABEL_CHARS} characters: {item[:20]}…")
        elif item.strip() not in labels:
            labels.append(item.strip())
    return labels


def _check_choice(meta, key, choices, default, errors):
    value = meta.get(key, default)
    if value not in choices:
        errors.append(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def validate_meta(meta):
    """Check front matter and return it normalised with every field; raise ArticleFileError."""
    errors = []
    unknown = sorted(str(key) for key in meta if key not in FIELDS)
    if unknown:
        errors.append(f"unknown front matter keys: {', '.join(unknown)} "
                      f"(allowed: {', '.join(FIELDS)})")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append("title is required and must be a non-empty string")
        title = ""
    elif len(title) > MAX_TITLE_CHARS:
        errors.append(f"title is longer than {MAX_TITLE_CHARS} characters")
    elif has_control_characters(title):
        errors.append("title must be one line without control characters")
    title = title.strip()
    slug = meta.get("slug") or (slugify(title) if title else None)
    if slug is not None and (
        not isinstance(slug, str) or not SLUG_RE.match(slug) or len(slug) > MAX_SLUG_CHARS
    ):
        errors.append(f"slug must be lower-case letters, digits and single hyphens "
                      f"(at most {MAX_SLUG_CHARS}), not {slug!r}")
    category = meta.get("category") or ""
    if (not isinstance(category, str) or len(category) > MAX_LABEL_CHARS
            or has_control_characters(category)):
        errors.append(f"category must be one line of at most {MAX_LABEL_CHARS} characters")
    summary = meta.get("summary") or ""
    if (not isinstance(summary, str) or len(summary) > MAX_SUMMARY_CHARS
            or has_control_characters(summary)):
        errors.append(f"summary must be one line of at most {MAX_SUMMARY_CHARS} characters")
    normalised = {
        "title": title,
        "slug": slug,
        "category": category.strip() if isinstance(category, str) else category,
        "tags": _check_label_list(meta, "tags", errors),
        "systems": _check_label_list(meta, "systems", errors),
        "visibility": _check_choice(meta, "visibility", VISIBILITIES, "internal", errors),
        "status": _check_choice(meta, "status", STATUSES, "draft", errors),
        "summary": summary.strip() if isinstance(summary, str) else summary,
    }
    if errors:
        raise ArticleFileError(errors)
    return normalised


def parse_article_file(text):
    """Split an article file into (validated front matter dict, Markdown body)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ArticleFileError(["the file is not UTF-8 text"]) from None
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ArticleFileError([f"the file is too large: the limit is {MAX_FILE_BYTES // 1024} KB"])
    front, body = _split(text)
    return validate_meta(_load_yaml(front)), body


def dump_article_file(meta, body):
    """Write front matter and body as an article file that ``parse_article_file`` reads back."""
    normalised = validate_meta(meta)
    front = yaml.safe_dump(
        normalised, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000
    )
    return f"---\n{front}---\n\n{body.lstrip(chr(10))}"

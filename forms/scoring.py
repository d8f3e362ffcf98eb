"""Scores of chosen answers, for score_sum() and score_max()."""


def _scored(choices):
    return any(isinstance(choice.get("score"), (int, float)) for choice in choices)


def _score_of(choices, answer, chosen_only):
    scores = [c["score"] for c in choices if isinstance(c.get("score"), (int, float))]
    if not chosen_only:
        return max(scores) if scores else 0
    answers = answer if isinstance(answer, list) else [answer]
    return sum(c["score"] for c in choices
               if c["value"] in answers and isinstance(c.get("score"), (int, float)))


def _field_scores(fields, values, choice_lists, hidden, prefix, chosen_only):
    for spec in fields:
        choices = choice_lists.get(spec.get("choices") or "", [])
        if not choices or not _scored(choices) or prefix + spec["key"] in hidden:
            continue
        yield _score_of(choices, values.get(spec["key"]), chosen_only)


def iter_scores(form, data, hidden=None, chosen_only=True):
    """Yield the score of each visible scored field and checklist row (chosen or best)."""
    hidden = hidden or frozenset()
    choice_lists = form.get("choices", {})
    for section in form.get("sections", []):
        kind = section["type"]
        if kind != "fields" and section["key"] in hidden:
            continue
        if kind == "checklist":
            choices = choice_lists.get(section["choices"], [])
            if _scored(choices):
                answers = data.get(section["key"]) or {}
                for row in section["rows"]:
                    yield _score_of(choices, answers.get(row["key"]), chosen_only)
        elif kind == "repeat":
            for index, row in enumerate(data.get(section["key"]) or []):
                prefix = f"{section['key']}[{index}]."
                yield from _field_scores(section["fields"], row, choice_lists, hidden, prefix,
                                         chosen_only)
        else:
            yield from _field_scores(section["fields"], data, choice_lists, hidden, "", chosen_only)

"""The annual quality scorecard (服务质量考核表, seed 002) exactly by the rules of API.md.

- response 50 = HIS 25 + CIS 20 + other 5: −0.5 once per ticket of the year whose response or
  resolution missed its deadline (figures.missed), within the ticket's system class, floor 0 per
  class. Every missed ticket is listed as a deduction; once a class reaches 0 the further ones
  are listed with 0 points, so the listed points always add up to max − score.
- modifications 20: −1 per approved requirement that missed a milestone (submissions.py), floor 0.
- satisfaction 20 = 20 × mean/5 over the year's rated tickets, pooled with the hospital's survey
  results (SurveyResult rows: mean × respondents; satisfaction_survey submissions: one answer
  each); 20 when nothing is rated.
- resolution rate 10: rate = resolved ÷ total tickets of the year; −1 per percentage point below
  90 %, proportionally, floor 0; 10 when the year has no tickets (rate null).
- bonus +2 per letter of praise received in the year; total capped at 100.
- payment ratio 1.0 when total ≥ 80, else total / 100.

Counting is done by aggregate queries (GROUP BY class, SUM over flags); only the missed tickets'
ids are fetched, to list them as deductions.
"""

from decimal import ROUND_HALF_UP
from decimal import Decimal

from peewee import fn

from portal.accounts.models import utcnow
from portal.reports import figures
from portal.reports import periods
from portal.reports import submissions
from portal.reports.models import PraiseLetter
from portal.reports.models import SurveyResult
from portal.tickets.models import Ticket

CLASS_MAX = {"HIS": Decimal(25), "CIS": Decimal(20), "other": Decimal(5)}
LATE_POINTS = Decimal("0.5")
MODIFICATION_MAX = Decimal(20)
SATISFACTION_MAX = Decimal(20)
RATE_MAX = Decimal(10)
RATE_THRESHOLD = Decimal("0.9")
PRAISE_POINTS = Decimal(2)
PASS_MARK = Decimal(80)


def _n(value, places="0.01"):
    """A JSON number: Decimal rounded half-up, as int when whole."""
    value = Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


REASONS = {(1, 0): "response_missed", (0, 1): "resolution_missed", (1, 1): "response_missed,resolution_missed"}


def response_section(contract, period, now):
    response, resolve = figures.response_missed(now), figures.resolve_missed(now)
    rows = (figures.tickets(contract, period)
            .select(Ticket.id, Ticket.number, figures.system_class().alias("cls"),
                    figures.flag(response).alias("late_response"), figures.flag(resolve).alias("late_resolve"))
            .where(response | resolve).order_by(Ticket.reported_at, Ticket.id).tuples())
    by_class = {name: {"max": _n(top), "score": _n(top), "deductions": [], "missed": 0}
                for name, top in CLASS_MAX.items()}
    remaining = dict(CLASS_MAX)
    deductions = []
    half, zero = _n(LATE_POINTS), 0
    for ticket_id, number, cls, late_response, late_resolve in rows:
        cls = cls if cls in CLASS_MAX else "other"
        entry = by_class[cls]
        if remaining[cls] >= LATE_POINTS:  # whole half points: the floor is reached exactly at 0
            remaining[cls] -= LATE_POINTS
            points = half
        else:
            points = zero
        item = {"ticket_id": ticket_id, "number": number, "class": cls,
                "reason": REASONS[(int(late_response), int(late_resolve))], "points": points}
        entry["deductions"].append(item)
        entry["missed"] += 1
        deductions.append(item)
    for name in CLASS_MAX:
        by_class[name]["score"] = _n(remaining[name])
    score = sum(remaining.values())
    return {"max": 50, "score": _n(score), "deductions": deductions, "by_class": by_class}, score


def modifications_section(contract, period, now):
    items = submissions.requirements(contract, period, now)
    remaining = MODIFICATION_MAX
    deductions = []
    for item in items:
        if not item["missed"]:
            continue
        points = min(Decimal(1), remaining)
        remaining -= points
        late = [m["name"] for m in item["milestones"] if m["late"]]
        deductions.append({"ticket_id": item["ticket"].id if item["ticket"] else None,
                           "submission_id": item["submission"].id, "number": item["submission"].number,
                           "reason": ",".join(f"{name}_late" for name in late), "points": _n(points)})
    section = {"max": 20, "score": _n(remaining), "deductions": deductions, "requirements": len(items)}
    return section, remaining, items


def year_counts(contract, period):
    """(tickets, resolved, rated, rating sum) of the period in ONE aggregate query."""
    total, resolved, rated, rating_sum = (
        figures.tickets(contract, period)
        .select(fn.COUNT(Ticket.id), fn.SUM(figures.flag(Ticket.status.in_(figures.RESOLVED))),
                fn.COUNT(Ticket.satisfaction), fn.SUM(Ticket.satisfaction))
        .tuples().get())
    return total or 0, int(resolved or 0), rated or 0, int(rating_sum or 0)


def satisfaction_section(contract, period, counts=None):
    _total, _resolved, count, total = counts or year_counts(contract, period)
    ticket_count, total = count, Decimal(total)
    survey_count, survey_sum = 0, Decimal(0)
    for row in SurveyResult.select().where((SurveyResult.contract == contract.id) & (SurveyResult.year == period.year)):
        survey_count += row.respondents
        survey_sum += Decimal(row.mean_score) * row.respondents
    form_count, form_sum = submissions.survey_ratings(contract, period.year)
    ratings = ticket_count + survey_count + form_count
    summed = total + survey_sum + Decimal(str(form_sum))
    mean = summed / ratings if ratings else None
    score = SATISFACTION_MAX if mean is None else min(SATISFACTION_MAX, SATISFACTION_MAX * mean / 5)
    section = {"max": 20, "score": _n(score), "mean": None if mean is None else _n(mean, "0.0001"),
               "rated_tickets": ticket_count, "survey_answers": survey_count + form_count}
    return section, score


def resolution_section(contract, period, counts=None):
    total, resolved, _rated, _sum = counts or year_counts(contract, period)
    if not total:
        return {"max": 10, "score": 10, "rate": None, "total": 0, "resolved": 0}, RATE_MAX
    rate = Decimal(resolved) / Decimal(total)
    shortfall_points = max(Decimal(0), (RATE_THRESHOLD - rate) * 100)
    score = max(Decimal(0), RATE_MAX - shortfall_points)
    return {"max": 10, "score": _n(score), "rate": _n(rate, "0.0001"), "total": total, "resolved": resolved}, score


def praise_count(contract, period):
    return (PraiseLetter.select().where((PraiseLetter.contract == contract.id)
                                        & (PraiseLetter.received_on >= period.first)
                                        & (PraiseLetter.received_on <= period.last)).count())


def scorecard(contract, year, now=None):
    """The scorecard of *contract* for calendar *year* (installation time zone), API.md's shape
    plus a few extra fields (``number`` on deductions, counts) the pages use."""
    now = now or utcnow()
    period = periods.year_period(year)
    response, response_score = response_section(contract, period, now)
    modifications, modification_score, _items = modifications_section(contract, period, now)
    counts = year_counts(contract, period)
    satisfaction, satisfaction_score = satisfaction_section(contract, period, counts)
    resolution, resolution_score = resolution_section(contract, period, counts)
    letters = praise_count(contract, period)
    bonus = PRAISE_POINTS * letters
    raw = response_score + modification_score + satisfaction_score + resolution_score + bonus
    total = min(Decimal(100), Decimal(_n(raw)).quantize(Decimal("0.01")))
    ratio = Decimal(1) if total >= PASS_MARK else total / 100
    return {
        "year": year, "contract_id": contract.id, "total": _n(total), "passed": total >= PASS_MARK,
        "payment_ratio": _n(ratio, "0.0001"),
        "sections": {"response": response, "modifications": modifications, "satisfaction": satisfaction,
                     "resolution_rate": resolution},
        "bonus": {"praise_letters": letters, "points": _n(bonus)},
    }

"""Divergence between jurisdictions: one subject, several listings (designations joined by
subject links), compared.

Only what the reader may see takes part (sharing.access): subjects are built from the
visible designations and the links between them. The report gives the alignment of subjects
by jurisdiction, who lists what others do not, subjects delisted in one jurisdiction and
active in another, conflicting birth dates and identifiers, and the lag from a subject's
first listing to each later one.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from designations.models import (
    BirthDate,
    Designation,
    DesignationStatus,
    Identifier,
    LinkStatus,
    SubjectLink,
)
from designations.reconcile import identifier_key
from sharing import access

CONFLICT_KINDS = ("passport", "imo")  # one subject has one of each; two means a conflict


@dataclass
class Listing:
    designation: Designation
    jurisdiction: str

    @property
    def active(self) -> bool:
        return self.designation.status == DesignationStatus.ACTIVE


@dataclass
class Subject:
    id: str  # the lowest designation id of the subject: stable while its listings stay
    listings: list[Listing]
    conflicts: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return min((item.designation.name for item in self.listings), key=len)

    def by_jurisdiction(self) -> dict[str, Listing]:
        """The earliest listing per jurisdiction."""
        found: dict[str, Listing] = {}
        for item in sorted(self.listings, key=_listed_key):
            found.setdefault(item.jurisdiction, item)
        return found

    @property
    def first_listed(self) -> dt.date | None:
        dates = [i.designation.listed_on for i in self.listings if i.designation.listed_on]
        return min(dates) if dates else None

    def lag_days(self, jurisdiction: str) -> int | None:
        listing = self.by_jurisdiction().get(jurisdiction)
        first = self.first_listed
        if listing is None or first is None or listing.designation.listed_on is None:
            return None
        return (listing.designation.listed_on - first).days

    @property
    def split_status(self) -> bool:
        """Delisted in one jurisdiction, still active in another."""
        states = {(i.jurisdiction, i.active) for i in self.listings}
        active = {j for j, is_active in states if is_active}
        delisted = {j for j, is_active in states if not is_active} - active
        return bool(active and delisted)


@dataclass
class Report:
    jurisdictions: list[str]
    subjects: list[Subject]  # listed in two jurisdictions or more
    single: dict[str, int]  # jurisdiction -> subjects only it lists
    not_listed_by: dict[str, dict[str, int]]  # row lists (active), column does not
    split: list[Subject]
    conflicting: list[Subject]
    lag: dict[str, dict[str, float | int]]  # jurisdiction -> count, median, mean, max (days)


def _listed_key(item: Listing) -> tuple[dt.date, str]:
    return (item.designation.listed_on or dt.date.max, str(item.designation.pk))


def _components(ids: set[Any]) -> list[set[Any]]:
    parent = {i: i for i in ids}

    def root(i: Any) -> Any:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    links = SubjectLink.objects.filter(status__in=[LinkStatus.LINKED, LinkStatus.CONFIRMED])
    for left, right in links.values_list("left_id", "right_id"):
        if left in parent and right in parent:
            parent[root(left)] = root(right)
    groups: dict[Any, set[Any]] = defaultdict(set)
    for i in ids:
        groups[root(i)].add(i)
    return list(groups.values())


def _conflicts(subjects: list[Subject]) -> None:
    ids = [i.designation.pk for s in subjects for i in s.listings]
    births: dict[Any, set[dt.date]] = defaultdict(set)
    for designation_id, date in BirthDate.objects.filter(
        designation_id__in=ids, date__isnull=False
    ).values_list("designation_id", "date"):
        births[designation_id].add(date)
    numbers: dict[Any, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = Identifier.objects.filter(designation_id__in=ids, kind__in=CONFLICT_KINDS)
    for designation_id, kind, number in rows.values_list("designation_id", "kind", "number"):
        key = identifier_key(kind, number, "?")
        if key is not None:
            numbers[designation_id][kind].add(key[1].split("/")[0])
    for subject in subjects:
        dated = [births[i.designation.pk] for i in subject.listings if births[i.designation.pk]]
        if len(dated) >= 2 and not set.intersection(*dated):
            shown = sorted({d.isoformat() for dates in dated for d in dates})
            subject.conflicts.append(f"dates of birth differ: {', '.join(shown)}")
        for kind in CONFLICT_KINDS:
            held = [numbers[i.designation.pk][kind] for i in subject.listings]
            held = [h for h in held if h]
            if len(held) >= 2 and not set.intersection(*held):
                values = sorted({n for h in held for n in h})
                subject.conflicts.append(f"{kind} numbers differ: {', '.join(values)}")


def divergence_report(principal: Any) -> Report:
    visible = list(
        access.designations_for(principal)
        .exclude(status=DesignationStatus.DRAFT)
        .select_related("owner")
        .only("id", "name", "status", "listed_on", "reference_number", "marking", "owner")
    )
    by_id = {d.pk: d for d in visible}
    jurisdictions = sorted({d.owner.jurisdiction for d in visible})
    all_subjects = []
    for component in _components(set(by_id)):
        listings = [Listing(by_id[i], by_id[i].owner.jurisdiction) for i in component]
        all_subjects.append(Subject(str(min(component, key=str)), listings))

    single: dict[str, int] = defaultdict(int)
    not_listed: dict[str, dict[str, int]] = {
        j: dict.fromkeys(jurisdictions, 0) for j in jurisdictions
    }
    for subject in all_subjects:
        active = {i.jurisdiction for i in subject.listings if i.active}
        present = {i.jurisdiction for i in subject.listings}
        if len(present) == 1:
            single[next(iter(present))] += 1
        for row in active:
            for column in jurisdictions:
                if column not in active:
                    not_listed[row][column] += 1
    shared = [s for s in all_subjects if len({i.jurisdiction for i in s.listings}) >= 2]
    shared.sort(key=lambda s: (s.first_listed or dt.date.max, s.name))
    _conflicts(shared)

    lags: dict[str, list[int]] = defaultdict(list)
    for subject in shared:
        for jurisdiction in subject.by_jurisdiction():
            days = subject.lag_days(jurisdiction)
            if days is not None:
                lags[jurisdiction].append(days)
    lag = {
        j: {
            "subjects": len(days),
            "median_days": statistics.median(days),
            "mean_days": round(statistics.fmean(days), 1),
            "max_days": max(days),
            "first_lister": sum(1 for d in days if d == 0),
        }
        for j, days in sorted(lags.items())
    }
    return Report(
        jurisdictions=jurisdictions,
        subjects=shared,
        single=dict(single),
        not_listed_by=not_listed,
        split=[s for s in shared if s.split_status],
        conflicting=[s for s in shared if s.conflicts],
        lag=lag,
    )


def lag_chart(lag: dict[str, dict[str, float | int]], *, width: int = 640) -> dict[str, Any]:
    """Bars for a server-rendered SVG: median days from first listing, per jurisdiction."""
    rows = [(j, float(stats["median_days"]), int(stats["subjects"])) for j, stats in lag.items()]
    longest = max((days for _j, days, _n in rows), default=0) or 1
    label, bar_height, gap = 90, 22, 8
    usable = width - label - 80
    bars = [
        {
            "jurisdiction": j,
            "y": i * (bar_height + gap),
            "text_y": i * (bar_height + gap) + bar_height * 0.7,
            "width": round(usable * days / longest, 1),
            "days": days,
            "subjects": n,
            "value_x": label + round(usable * days / longest, 1) + 6,
        }
        for i, (j, days, n) in enumerate(rows)
    ]
    return {
        "width": width,
        "height": max(len(rows) * (bar_height + gap), bar_height),
        "label": label,
        "bar_height": bar_height,
        "bars": bars,
    }

"""Subject reconciliation: link designations of different agencies that name the same subject.

Strong evidence first: a cross-reference the source list gives (UK "UN Ref", EU
unitedNationId), then the same strong identifier (IMO number, passport number of the same
country, digital currency address, BIC). Then names with birth data and nationality
(designations.matching). Certain evidence makes a link; weaker evidence a candidate for a
liaison's review. A liaison's judgement (confirmed, rejected) is kept: later runs never
rewrite it. Links this run no longer finds, and nobody judged, are dropped.

Links are this node's view over the designations it holds (its own and its replicas).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rigour.territories import lookup_territory

from designations.matching import name_candidates
from designations.models import (
    Designation,
    Identifier,
    IdentifierKind,
    LinkMethod,
    LinkStatus,
    SourceEntry,
    SubjectLink,
)

# A number shared by more designations than this is a placeholder or a data error, not
# evidence (pairs within it would grow quadratically).
MAX_SHARED = 12
STRENGTH = {LinkMethod.REFERENCE: 3, LinkMethod.IDENTIFIER: 2, LinkMethod.NAME: 1}


@dataclass
class Evidence:
    method: str
    score: float
    status: str
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReconcileResult:
    linked: int = 0
    candidates: int = 0
    kept_judgements: int = 0
    dropped: int = 0
    by_method: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def summary(self) -> str:
        methods = ", ".join(f"{k} {v}" for k, v in sorted(self.by_method.items()))
        return (
            f"{self.linked} linked, {self.candidates} to review, {self.kept_judgements} "
            f"judgements kept, {self.dropped} dropped ({methods})"
        )


def pair(a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b) if str(a) < str(b) else (b, a)


def country_code(value: str) -> str:
    """ISO code of a country as lists write it ("Iran", "Islamic Republic of Iran", "IR")."""
    if not value:
        return ""
    territory = lookup_territory(value)
    return territory.code if territory is not None else value.strip().casefold()


def identifier_key(kind: str, number: str, country: str) -> tuple[str, str] | None:
    """What two identifiers must share to be the same: (kind, normalised number[, country])."""
    compact = re.sub(r"[^0-9A-Za-z]", "", number)
    if kind == IdentifierKind.IMO:
        digits = re.sub(r"\D", "", number)
        return ("imo", digits) if len(digits) == 7 else None
    if kind == IdentifierKind.DIGITAL_CURRENCY:
        address = number.strip()
        # Hex addresses (Ethereum and kin) are case-insensitive; base58 ones are not.
        address = address.lower() if address.lower().startswith("0x") else address
        return ("digital_currency", address) if len(address) >= 20 else None
    if kind == IdentifierKind.BIC:
        return ("bic", compact.upper()[:8]) if len(compact) in (8, 11) else None
    if kind in {IdentifierKind.PASSPORT, IdentifierKind.NATIONAL_ID, IdentifierKind.REGISTRATION}:
        # A passport or company number alone repeats across countries: number and country
        # identify.
        if len(compact) < 5 or not country:
            return None
        return (str(kind), f"{compact.upper()}/{country}")
    return None


def _reference_evidence(scope: set[Any] | None) -> dict[tuple[Any, Any], Evidence]:
    """Cross-references given by source lists: "un:QDi.062" names the UN designation."""
    found: dict[tuple[Any, Any], Evidence] = {}
    un_code = settings.LIST_PUBLISHER_AGENCIES.get("un", "")
    un_by_reference = dict(
        Designation.objects.filter(owner__code=un_code)
        .exclude(reference_number="")
        .values_list("reference_number", "pk")
    )
    sources = SourceEntry.objects.exclude(cross_references=[]).values_list(
        "designation_id", "cross_references", "designation__owner__code"
    )
    for designation_id, references, owner_code in sources:
        for reference in references:
            scheme, _, value = str(reference).partition(":")
            target = un_by_reference.get(value) if scheme == "un" else None
            if target is None or owner_code == un_code:
                continue
            if scope is not None and designation_id not in scope and target not in scope:
                continue
            found[pair(designation_id, target)] = Evidence(
                LinkMethod.REFERENCE, 1.0, LinkStatus.LINKED, {"reference": reference}
            )
    return found


def _identifier_evidence(scope: set[Any] | None) -> dict[tuple[Any, Any], Evidence]:
    rows = Identifier.objects.filter(
        kind__in=[
            IdentifierKind.IMO,
            IdentifierKind.DIGITAL_CURRENCY,
            IdentifierKind.BIC,
            IdentifierKind.PASSPORT,
            IdentifierKind.NATIONAL_ID,
            IdentifierKind.REGISTRATION,
        ]
    ).values_list(
        "designation_id",
        "designation__owner_id",
        "kind",
        "number",
        "country_of_issue",
        "issuing_country",
    )
    holders: dict[tuple[str, str], dict[Any, Any]] = defaultdict(dict)
    for designation_id, owner_id, kind, number, country, issuing in rows:
        key = identifier_key(kind, number, country_code(country or issuing))
        if key is not None:
            holders[key][designation_id] = owner_id
    found: dict[tuple[Any, Any], Evidence] = {}
    for (kind, value), designations in holders.items():
        if len(designations) < 2 or len(designations) > MAX_SHARED:
            continue
        ids = sorted(designations, key=str)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                if designations[a] == designations[b]:
                    continue  # one agency's two listings are its own affair
                if scope is not None and a not in scope and b not in scope:
                    continue
                found[pair(a, b)] = Evidence(
                    LinkMethod.IDENTIFIER,
                    1.0,
                    LinkStatus.LINKED,
                    {"identifier": {"kind": kind, "value": value}},
                )
    return found


def find_evidence(scope: set[Any] | None = None) -> dict[tuple[Any, Any], Evidence]:
    """Every pair with evidence, the strongest evidence per pair. `scope` limits the run to
    pairs with at least one of these designations (None: all)."""
    evidence: dict[tuple[Any, Any], Evidence] = {}
    for found in (
        name_candidates(scope),
        _identifier_evidence(scope),
        _reference_evidence(scope),
    ):
        for key, new in found.items():
            old = evidence.get(key)
            if old is None or STRENGTH[new.method] >= STRENGTH[old.method]:
                evidence[key] = new
    return evidence


def reconcile(designation_ids: Iterable[Any] | None = None) -> ReconcileResult:
    """Bring the links in line with the evidence (for these designations, or all)."""
    scope = set(designation_ids) if designation_ids is not None else None
    evidence = find_evidence(scope)
    result = ReconcileResult()
    with transaction.atomic():
        existing = SubjectLink.objects.all()
        if scope is not None:
            existing = existing.filter(left_id__in=scope) | existing.filter(right_id__in=scope)
        current = {(link.left_id, link.right_id): link for link in existing}
        judged = {LinkStatus.CONFIRMED, LinkStatus.REJECTED}
        stale = [
            link.pk
            for key, link in current.items()
            if key not in evidence and link.status not in judged
        ]
        # Conditional writes: a liaison may judge a link while this run works, and a judged
        # link is never dropped or rewritten.
        unjudged = SubjectLink.objects.exclude(status__in=judged)
        result.dropped, _ = unjudged.filter(pk__in=stale).delete()
        new_links, changed = [], []
        for (left, right), found in evidence.items():
            link = current.get((left, right))
            if link is not None and link.status in judged:
                result.kept_judgements += 1
                continue
            if link is None:
                new_links.append(
                    SubjectLink(
                        left_id=left,
                        right_id=right,
                        method=found.method,
                        score=found.score,
                        status=found.status,
                        explanation=found.explanation,
                    )
                )
            elif (link.method, link.score, link.status, link.explanation) != (
                found.method,
                found.score,
                found.status,
                found.explanation,
            ):
                link.method, link.score = found.method, found.score
                link.status, link.explanation = found.status, found.explanation
                changed.append(link)
            if found.status == LinkStatus.LINKED:
                result.linked += 1
            else:
                result.candidates += 1
            result.by_method[found.method] += 1
        # Another run may have made the same link meanwhile: its row stands.
        SubjectLink.objects.bulk_create(new_links, batch_size=1000, ignore_conflicts=True)
        for link in changed:
            unjudged.filter(pk=link.pk).update(
                method=link.method,
                score=link.score,
                status=link.status,
                explanation=link.explanation,
                updated_at=timezone.now(),
            )
    return result


def subject_of(
    designation_id: Any,
    *,
    max_size: int = 200,
    within: Callable[[set[Any]], set[Any]] | None = None,
) -> set[Any]:
    """The designations joined to this one by linked or confirmed links (itself included).
    `within` keeps, of each step's newly reached designations, those the walk may pass
    through (a reader's visible ones: a hidden listing neither shows nor joins)."""
    subject, frontier = {designation_id}, {designation_id}
    while frontier and len(subject) < max_size:
        links = SubjectLink.objects.filter(status__in=SubjectLink.JOINING).filter(
            left_id__in=frontier
        ) | SubjectLink.objects.filter(status__in=SubjectLink.JOINING, right_id__in=frontier)
        reached = set()
        for left, right in links.values_list("left_id", "right_id"):
            reached.update((left, right))
        frontier = reached - subject
        if within is not None and frontier:
            frontier = within(frontier)
        subject |= frontier
    return subject

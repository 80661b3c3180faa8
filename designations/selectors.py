"""Reads of designations, always through sharing.access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from agencies.models import Agency, User
from designations.models import Designation, DesignationVersion, Name, Regime
from designations.names import normalize_name
from sharing import access

# Integer ids are 32-bit in every database we run on; a larger number names nothing (and
# would overflow the database driver).
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class DesignationFilters:
    query: str = ""
    regime: str = ""  # Regime id
    kind: str = ""
    status: str = ""
    agency: str = ""  # Agency code
    changed_since: dt.datetime | None = None
    sort: str = "name"  # a key of SORTS


# The list's orders, by name in the URL (anything else is the default); each ends with the id
# so that pages never repeat or skip a row.
SORTS = {
    "name": ("name", "id"),
    "changed": ("-updated_at", "id"),
    "listed": ("-listed_on", "name", "id"),
    "reference": ("reference_number", "id"),
}


def designation_search(*, user: User, filters: DesignationFilters) -> QuerySet[Designation]:
    """Visible designations matching a name (any alias, any script) or reference number."""
    designations = access.designations_for(user).select_related("owner", "regime")
    # NUL can be typed into a URL but not sent to PostgreSQL; no stored text contains it.
    if any("\x00" in getattr(filters, f) for f in ("query", "regime", "kind", "status", "agency")):
        return designations.none()
    if filters.query.strip():
        normalized = normalize_name(filters.query)
        name_match = Exists(
            Name.objects.filter(designation=OuterRef("pk"), normalized__contains=normalized)
        )
        designations = designations.filter(
            name_match | Q(reference_number__iexact=filters.query.strip())
        )
    if filters.regime.isdigit() and int(filters.regime) <= MAX_ID:
        designations = designations.filter(regime_id=int(filters.regime))
    if filters.kind:
        designations = designations.filter(subject_kind=filters.kind)
    if filters.status:
        designations = designations.filter(status=filters.status)
    if filters.agency:
        designations = designations.filter(owner__code=filters.agency)
    if filters.changed_since:
        designations = designations.filter(updated_at__gte=filters.changed_since)
    return designations.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def designations_for_export(*, user: User, filters: DesignationFilters) -> Iterator[Designation]:
    """Every visible designation matching the filters, with its children, fetched in chunks
    so that an export of 100,000 designations holds one chunk in memory at a time."""
    designations = (
        designation_search(user=user, filters=filters)
        .select_related("source")
        .prefetch_related(
            "names", "birth_dates", "birth_places", "addresses", "nationalities", "identifiers"
        )
        .order_by("id")
    )
    return designations.iterator(chunk_size=500)


def designation_filter_choices(*, user: User) -> dict[str, QuerySet]:
    """Regimes and agencies that have at least one designation the user may see."""
    visible = access.designations_for(user)
    return {
        "regimes": Regime.objects.filter(
            Exists(visible.filter(regime=OuterRef("pk")))
        ).select_related("owner"),
        "agencies": Agency.objects.filter(Exists(visible.filter(owner=OuterRef("pk")))),
    }


def designation_get(*, user: User, designation_id: object) -> Designation:
    """One visible designation with everything its detail page shows; 404 when it is not
    visible, so that nobody learns that an object they may not see exists."""
    designations = (
        access.designations_for(user)
        .select_related(
            "owner", "regime", "source", "source__first_publication", "source__last_publication"
        )
        .prefetch_related(
            "names",
            "birth_dates",
            "birth_places",
            "addresses",
            "nationalities",
            "identifiers",
            Prefetch(
                "history",
                queryset=DesignationVersion.objects.select_related(
                    "actor", "actor_agency", "publication"
                ).order_by("-version"),
            ),
        )
    )
    try:
        return designations.get(pk=designation_id)
    except (Designation.DoesNotExist, ValueError) as error:
        raise Http404("No such designation.") from error

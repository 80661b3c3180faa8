"""REST API: screen one or many names against the designations the caller may see."""

from __future__ import annotations

import datetime as dt

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.api_schema import problems
from designations.api_serializers import StrictCharField, StrictSerializer
from designations.models import IdentifierKind
from designations.screen import ScreenQuery, name_index, screen
from sharing.audit import audit_record
from sharing.models import AuditAction

MAX_NAMES = 100  # more go through a batch screening job in the portal


# The kinds that identify (compared exactly, normalised); a tax or "other" number does not.
SCREENED_KINDS = [
    IdentifierKind.DIGITAL_CURRENCY,
    IdentifierKind.IMO,
    IdentifierKind.PASSPORT,
    IdentifierKind.NATIONAL_ID,
    IdentifierKind.REGISTRATION,
    IdentifierKind.BIC,
]
MAX_IDENTIFIERS = 200  # per request: each is compared with every listed one of its kind


class ScreenIdentifier(StrictSerializer):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in SCREENED_KINDS])
    number = StrictCharField(max_length=200)
    country = StrictCharField(max_length=100, required=False, allow_blank=True)


class ScreenSubject(StrictSerializer):
    name = StrictCharField(max_length=300, required=False, allow_blank=True)
    birth_date = StrictCharField(
        max_length=10, required=False, allow_blank=True, help_text="YYYY-MM-DD or YYYY"
    )
    nationality = StrictCharField(max_length=100, required=False, allow_blank=True)
    identifiers = ScreenIdentifier(many=True, required=False, max_length=20)

    def validate_birth_date(self, value: str) -> str:
        if not value:
            return value
        try:
            if len(value) == 4 and value.isdigit():
                return value
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise serializers.ValidationError("A date (YYYY-MM-DD) or a year (YYYY).") from None

    def validate(self, data: dict) -> dict:
        if not data.get("name", "").strip() and not data.get("identifiers"):
            raise serializers.ValidationError("Give a name, identifiers, or both.")
        return data


class ScreenRequest(StrictSerializer):
    subjects = ScreenSubject(many=True, min_length=1, max_length=MAX_NAMES)

    def validate_subjects(self, subjects: list) -> list:
        if sum(len(s.get("identifiers", [])) for s in subjects) > MAX_IDENTIFIERS:
            raise serializers.ValidationError(f"At most {MAX_IDENTIFIERS} identifiers per request.")
        return subjects


class ScreenMatchOut(serializers.Serializer):
    designation = serializers.UUIDField()
    name = serializers.CharField()
    owner = serializers.CharField()
    regime = serializers.CharField()
    reference_number = serializers.CharField()
    subject_kind = serializers.CharField()
    score = serializers.FloatField(help_text="0-100")
    explanation = serializers.DictField(help_text="What matched: name, identifier, birth date…")


class ScreenResult(serializers.Serializer):
    subject = ScreenSubject()
    matches = ScreenMatchOut(many=True)


class ScreenResponse(serializers.Serializer):
    results = ScreenResult(many=True)


class Screen(APIView):
    write_scope = "read"  # a POST that reads: the read scope is enough

    @extend_schema(
        operation_id="screen",
        request=ScreenRequest,
        responses={200: ScreenResponse, **problems(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        """Screen up to 100 subjects (a name, and optionally a birth date, a nationality and
        identifiers such as wallet addresses, IMO or passport numbers) against the
        designations you may see. Each gets its best matches, ranked, with what matched."""
        payload = ScreenRequest(data=request.data)
        payload.is_valid(raise_exception=True)
        results = []
        index = name_index()
        for subject in payload.validated_data["subjects"]:
            query = ScreenQuery(**subject)
            matches = [
                {
                    "designation": m.designation.pk,
                    "name": m.designation.name,
                    "owner": m.designation.owner.code,
                    "regime": m.designation.regime.code,
                    "reference_number": m.designation.reference_number,
                    "subject_kind": m.designation.subject_kind,
                    "score": m.score,
                    "explanation": m.explanation,
                }
                for m in screen(request.user, query, index=index)
            ]
            results.append({"subject": subject, "matches": matches})
        # Who screened how many; the names screened are the caller's customers: not kept.
        audit_record(
            AuditAction.READ,
            detail={"screened": len(results), "alerts": sum(bool(r["matches"]) for r in results)},
        )
        return Response({"results": results})


urlpatterns = [path("screen", Screen.as_view(), name="screen")]

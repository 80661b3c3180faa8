"""Input serializers of the designations API: strict (unknown fields are errors) and mapped
onto the designation data format of designations.data."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from designations.models import (
    BirthDateKind,
    IdentifierKind,
    NameKind,
    NameQuality,
    SubjectKind,
)
from sharing.models import Marking


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo is an error instead of silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {field: ["Unknown field."] for field in sorted(unknown)}
                )
        return super().to_internal_value(data)

    def to_data(self) -> dict[str, Any]:
        return dict(self.validated_data)


class NameInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=NameKind.choices)
    full_name = serializers.CharField(max_length=500)
    quality = serializers.ChoiceField(choices=NameQuality.choices, required=False, allow_blank=True)
    script = serializers.CharField(max_length=4, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PlaceInput(StrictSerializer):
    street = serializers.CharField(max_length=500, required=False, allow_blank=True)
    city = serializers.CharField(max_length=200, required=False, allow_blank=True)
    state_province = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class NationalityInput(StrictSerializer):
    country = serializers.CharField(max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class IdentifierInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    number = serializers.CharField(max_length=200)
    type_detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    issuing_country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class BirthDateInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=BirthDateKind.choices, required=False, allow_blank=True)
    date = serializers.DateField(required=False, allow_null=True)
    year = serializers.IntegerField(min_value=1800, max_value=2100, required=False, allow_null=True)
    from_year = serializers.IntegerField(
        min_value=1800, max_value=2100, required=False, allow_null=True
    )
    to_year = serializers.IntegerField(
        min_value=1800, max_value=2100, required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _text_list() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=100
    )


class DesignationContent(StrictSerializer):
    """The amendable content; on amend every field is optional (PATCH semantics)."""

    name = serializers.CharField(max_length=500)
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices)
    reference_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    legal_basis = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    gender = serializers.CharField(max_length=20, required=False, allow_blank=True)
    titles = _text_list()
    positions = _text_list()
    measures = _text_list()
    reasons = serializers.CharField(required=False, allow_blank=True, max_length=50_000)
    listed_on = serializers.DateField(required=False, allow_null=True)
    marking = serializers.ChoiceField(choices=Marking.choices, required=False)
    names = NameInput(many=True, required=False, max_length=200)
    birth_dates = BirthDateInput(many=True, required=False, max_length=50)
    birth_places = PlaceInput(many=True, required=False, max_length=50)
    addresses = PlaceInput(many=True, required=False, max_length=100)
    nationalities = NationalityInput(many=True, required=False, max_length=50)
    identifiers = IdentifierInput(many=True, required=False, max_length=100)

    def to_data(self) -> dict[str, Any]:
        """The validated input in the designation data format (dates as ISO text)."""
        data = dict(self.validated_data)
        for key in ("listed_on",):
            if data.get(key) is not None:
                data[key] = data[key].isoformat()
        for item in data.get("birth_dates", []) + data.get("identifiers", []):
            for key in ("date", "issued_on"):
                if item.get(key) is not None:
                    item[key] = item[key].isoformat()
        return data


class DesignationCreate(DesignationContent):
    regime = serializers.CharField(max_length=64, help_text="Code of one of your regimes")


class DesignationAmend(DesignationContent):
    reason = serializers.CharField(max_length=5000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Partial input, but never without a reason.
        if not attrs.get("reason", "").strip():
            raise serializers.ValidationError({"reason": ["Say why the designation changes."]})
        if set(attrs) == {"reason"}:
            raise serializers.ValidationError({"detail": ["Send at least one field to change."]})
        return attrs


class DesignationDelist(StrictSerializer):
    reason = serializers.CharField(max_length=5000)
    delisted_on = serializers.DateField(required=False)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as text only: DRF would also take an integer (or `false`) as a UUID."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)

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


class StrictCharField(serializers.CharField):
    """A JSON string, not a number or boolean that DRF would turn into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not a string of digits, a float or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


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
    full_name = StrictCharField(max_length=500)
    quality = serializers.ChoiceField(choices=NameQuality.choices, required=False, allow_blank=True)
    script = StrictCharField(max_length=4, required=False, allow_blank=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


class PlaceInput(StrictSerializer):
    street = StrictCharField(max_length=500, required=False, allow_blank=True)
    city = StrictCharField(max_length=200, required=False, allow_blank=True)
    state_province = StrictCharField(max_length=200, required=False, allow_blank=True)
    postal_code = StrictCharField(max_length=40, required=False, allow_blank=True)
    country = StrictCharField(max_length=100, required=False, allow_blank=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


class NationalityInput(StrictSerializer):
    country = StrictCharField(max_length=100)
    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


class IdentifierInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    number = StrictCharField(max_length=200)
    type_detail = StrictCharField(max_length=200, required=False, allow_blank=True)
    issuing_country = StrictCharField(max_length=100, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


class BirthDateInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=BirthDateKind.choices, required=False, allow_blank=True)
    date = serializers.DateField(required=False, allow_null=True)
    year = StrictIntegerField(min_value=1800, max_value=2100, required=False, allow_null=True)
    from_year = StrictIntegerField(min_value=1800, max_value=2100, required=False, allow_null=True)
    to_year = StrictIntegerField(min_value=1800, max_value=2100, required=False, allow_null=True)
    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


def _text_list() -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(max_length=500), required=False, max_length=100
    )


class DesignationContent(StrictSerializer):
    """The amendable content; on amend every field is optional (PATCH semantics)."""

    name = StrictCharField(max_length=500)
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices)
    reference_number = StrictCharField(max_length=64, required=False, allow_blank=True)
    legal_basis = StrictCharField(required=False, allow_blank=True, max_length=5000)
    gender = StrictCharField(max_length=20, required=False, allow_blank=True)
    titles = _text_list()
    positions = _text_list()
    measures = _text_list()
    reasons = StrictCharField(required=False, allow_blank=True, max_length=50_000)
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
    regime = StrictCharField(max_length=64, help_text="Code of one of your regimes")


class DesignationAmend(DesignationContent):
    reason = StrictCharField(max_length=5000)

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
    reason = StrictCharField(max_length=5000)
    delisted_on = serializers.DateField(required=False)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as text only: DRF would also take an integer (or `false`) as a UUID."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)

"""Response shapes for the OpenAPI schema (the views build these bodies by hand)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from designations.models import DesignationStatus, SubjectKind
from sharing.api import PROBLEM_JSON
from sharing.models import Marking


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Field-level errors")


def problems(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ProblemSerializer, description="Problem details") for code in codes
    }


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=DesignationStatus.choices)
    changed_fields = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class DesignationDetailSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    owner = serializers.CharField(help_text="Owner agency code")
    version = serializers.IntegerField()
    regime = serializers.CharField()
    name = serializers.CharField()
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices)
    status = serializers.ChoiceField(choices=DesignationStatus.choices)
    marking = serializers.ChoiceField(choices=Marking.choices)
    reference_number = serializers.CharField()
    legal_basis = serializers.CharField()
    gender = serializers.CharField()
    titles = serializers.ListField(child=serializers.CharField())
    positions = serializers.ListField(child=serializers.CharField())
    measures = serializers.ListField(child=serializers.CharField())
    reasons = serializers.CharField()
    listed_on = serializers.DateField(allow_null=True)
    delisted_on = serializers.DateField(allow_null=True)
    source_updated_on = serializers.ListField(child=serializers.CharField())
    names = serializers.ListField(child=serializers.DictField())
    birth_dates = serializers.ListField(child=serializers.DictField())
    birth_places = serializers.ListField(child=serializers.DictField())
    addresses = serializers.ListField(child=serializers.DictField())
    nationalities = serializers.ListField(child=serializers.DictField())
    identifiers = serializers.ListField(child=serializers.DictField())
    audience = serializers.ListField(child=serializers.DictField())
    history = VersionSerializer(many=True)
    source = serializers.DictField(allow_null=True)


ME = inline_serializer(
    "Me",
    {
        "kind": serializers.ChoiceField(choices=["person", "api_client"]),
        "name": serializers.CharField(),
        "agency": serializers.DictField(allow_null=True),
        "role": serializers.CharField(),
        "scopes": serializers.ListField(child=serializers.CharField()),
    },
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The designation's ETag, as last read",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string; a retry with the same key and body returns the first answer",
)
CONTENT_DISPOSITION = OpenApiParameter(
    "Content-Disposition",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The file name: attachment; filename="scan.pdf"',
)
LIST_FILTERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Name, alias (any script) or reference"),
    OpenApiParameter("regime", OpenApiTypes.INT32, description="Regime id"),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=SubjectKind.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=DesignationStatus.values),
    OpenApiParameter("agency", OpenApiTypes.STR, description="Owner agency code"),
    OpenApiParameter("changed_since", OpenApiTypes.DATETIME),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` or `previous`"),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="At most 200"),
]


def _link(operation_id: str, description: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


_DESIGNATION = {"designation_id": "$response.body#/id"}
_OBJECT = {"object_id": "$response.body#/id"}
_IF_MATCH = {"header.If-Match": "$response.header.ETag"}
_DESIGNATION_LINKS = {
    "GetDesignation": _link("designations_retrieve", "Read it again", **_DESIGNATION),
    "AmendDesignation": _link(
        "designations_amend", "Amend it, with its ETag", **_DESIGNATION, **_IF_MATCH
    ),
    "DelistDesignation": _link(
        "designations_delist", "Delist it, with its ETag", **_DESIGNATION, **_IF_MATCH
    ),
    "AttachToDesignation": _link("designations_attachments_create", "Attach a file", **_OBJECT),
    "ListDesignationGrants": _link("designations_grants_list", "Who may see it", **_OBJECT),
    "GrantOnDesignation": _link("designations_grants_create", "Share it", **_OBJECT),
}
# OpenAPI links (operationId -> status -> links): how to use what one call returns in the
# next. Integrators read them as "what next"; schemathesis's stateful tests follow them.
LINKS: dict[str, dict[str, dict]] = {
    "designations_create": {"201": _DESIGNATION_LINKS},
    "designations_retrieve": {"200": _DESIGNATION_LINKS},
    "designations_amend": {"200": _DESIGNATION_LINKS},
    "notes_create": {
        "201": {
            "GetNote": _link("notes_retrieve", "Read it", note_id="$response.body#/id"),
            "AttachToNote": _link("notes_attachments_create", "Attach a file", **_OBJECT),
            "ListNoteGrants": _link("notes_grants_list", "Who may see it", **_OBJECT),
            "GrantOnNote": _link("notes_grants_create", "Share it", **_OBJECT),
        }
    },
    "designations_attachments_create": {
        "201": {
            "GetAttachment": _link(
                "attachments_retrieve", "Its metadata", attachment_id="$response.body#/id"
            ),
            "DownloadAttachment": _link(
                "attachments_content_retrieve", "Its content", attachment_id="$response.body#/id"
            ),
        }
    },
}
LINKS["notes_attachments_create"] = LINKS["designations_attachments_create"]


def split_problem_media_types(
    result: dict, generator: object, request: object, public: bool
) -> dict:
    """drf-spectacular hook: successes are application/json, errors application/problem+json,
    instead of both media types everywhere; plus 429 on every authenticated operation, the
    OpenAPI links, and closed request bodies."""
    too_many = {
        "description": "Rate limit reached; see Retry-After",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
        "headers": {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}
        },
    }
    too_large = {
        "description": "The JSON body is over the size limit",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            # Request bodies are StrictSerializers: say so, an unknown field is a 400.
            component["additionalProperties"] = False
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for status, links in LINKS.get(operation.get("operationId", ""), {}).items():
                operation["responses"][status]["links"] = links
            if "requestBody" in operation and "application/json" in operation["requestBody"].get(
                "content", {}
            ):
                operation["responses"].setdefault("413", too_large)
            if operation.get("security") != [] and "responses" in operation:
                # Every authenticated operation is rate-limited (sharing.api_auth).
                operation["responses"].setdefault("429", too_many)
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "23":
                    content.pop(PROBLEM_JSON, None)
                elif "application/problem+json" in content:
                    response["content"] = {PROBLEM_JSON: content[PROBLEM_JSON]}
    return result

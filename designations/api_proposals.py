"""REST API for amendment proposals and disputes: propose on a designation another agency owns,
list and read them (proposer and owner only), and decide as the owner."""

from __future__ import annotations

from uuid import UUID

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designations.api_schema import problems
from designations.api_serializers import DesignationAmend, StrictCharField, StrictSerializer
from designations.models import AmendmentProposal, ProposalKind, ProposalStatus
from designations.proposals import proposal_create, proposal_decide, proposals_visible
from sharing import access
from sharing.api import conditional, problem


class ProposalSerializer(serializers.ModelSerializer):
    designation = serializers.UUIDField(source="designation_id")
    proposer = serializers.CharField(source="proposer.code")
    url = serializers.SerializerMethodField()

    class Meta:
        model = AmendmentProposal
        fields = [
            "id",
            "designation",
            "proposer",
            "proposed_by_name",
            "kind",
            "changes",
            "reason",
            "based_on_version",
            "status",
            "decision_reason",
            "decided_by_name",
            "decided_at",
            "resulting_version",
            "version",
            "created_at",
            "url",
        ]

    def get_url(self, proposal: AmendmentProposal) -> str:
        return reverse("api:proposal-detail", args=[proposal.pk])


class ProposalCreate(StrictSerializer):
    kind = serializers.ChoiceField(choices=ProposalKind.choices)
    changes = serializers.DictField(
        help_text='amend: new values, as in an amendment; dispute: {"fields": [names]}'
    )
    reason = StrictCharField(max_length=5000)


class ProposalDecision(StrictSerializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    reason = StrictCharField(max_length=5000)


class ProposalPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProposalSerializer(many=True)


class ProposalCursor(CursorPagination):
    ordering = "-created_at"
    page_size = 50


class ProposalList(APIView):
    @extend_schema(
        operation_id="proposals_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ProposalStatus.values),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` or `previous`"),
        ],
        responses={200: ProposalPageSerializer, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        """Proposals your agency made, and proposals about your agency's designations
        (filter with `status`: open, accepted, rejected)."""
        status = request.query_params.get("status", "")
        if "status" in request.query_params and status not in ProposalStatus.values:
            return problem(400, "The request is not valid.", errors={"status": ["Unknown."]})
        paginator = ProposalCursor()
        try:
            page = paginator.paginate_queryset(
                proposals_visible(user=request.user, status=status), request, view=self
            )
        except NotFound:
            return problem(400, "The request is not valid.", errors={"cursor": ["Invalid cursor."]})
        return paginator.get_paginated_response(ProposalSerializer(page, many=True).data)


class DesignationProposals(APIView):
    @extend_schema(
        operation_id="proposals_create",
        request=ProposalCreate,
        responses={201: ProposalSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, designation_id: UUID) -> Response:
        """Propose an amendment to, or contest fields of, a designation another agency owns."""
        designation = (
            access.designations_for(request.user)
            .select_related("owner__home_node")
            .filter(pk=designation_id)
            .first()
        )
        if designation is None:
            return problem(404, "No such designation.")
        serializer = ProposalCreate(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = data["changes"]
        if data["kind"] == ProposalKind.AMEND:
            # The same checks as an amendment by the owner would get.
            amend = DesignationAmend(data={**changes, "reason": data["reason"]})
            if not amend.is_valid():
                return problem(400, "The request is not valid.", errors={"changes": amend.errors})
            changes = amend.to_data()
            changes.pop("reason")
        proposal = proposal_create(
            actor=request.user,
            designation=designation,
            kind=data["kind"],
            changes=changes,
            reason=data["reason"],
        )
        response = Response(ProposalSerializer(proposal).data, status=201)
        response["Location"] = reverse("api:proposal-detail", args=[proposal.pk])
        return response


def _visible(request: Request, proposal_id: UUID) -> AmendmentProposal | None:
    return proposals_visible(user=request.user).filter(pk=proposal_id).first()


class ProposalDetail(APIView):
    @extend_schema(
        operation_id="proposals_retrieve",
        responses={200: ProposalSerializer, 304: None, **problems(401, 404)},
    )
    def get(self, request: Request, proposal_id: UUID) -> Response:
        proposal = _visible(request, proposal_id)
        if proposal is None:
            return problem(404, "No such proposal.")
        return conditional(request, proposal, ProposalSerializer(proposal).data)


class ProposalDecide(APIView):
    @extend_schema(
        operation_id="proposals_decide",
        request=ProposalDecision,
        responses={200: ProposalSerializer, **problems(400, 401, 403, 404)},
    )
    def post(self, request: Request, proposal_id: UUID) -> Response:
        """Accept (an amendment becomes a new version) or reject, with a reason; for
        publishers of the designation's owner agency."""
        proposal = _visible(request, proposal_id)
        if proposal is None:
            return problem(404, "No such proposal.")
        serializer = ProposalDecision(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = proposal_decide(
            actor=request.user,
            proposal=proposal,
            accept=serializer.validated_data["decision"] == "accept",
            reason=serializer.validated_data["reason"],
        )
        return Response(ProposalSerializer(decided).data)


urlpatterns = [
    path("proposals", ProposalList.as_view(), name="proposal-list"),
    path("proposals/<uuid:proposal_id>", ProposalDetail.as_view(), name="proposal-detail"),
    path(
        "proposals/<uuid:proposal_id>/decision", ProposalDecide.as_view(), name="proposal-decision"
    ),
    path(
        "designations/<uuid:designation_id>/proposals",
        DesignationProposals.as_view(),
        name="designation-proposals",
    ),
]

"""Rules API (admins only): each view validates input, calls one service or selector, shapes output."""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from forum_helper.core.roles import IsAdmin
from forum_helper.rules import selectors, services
from forum_helper.rules.models import Backtest, Rule, RuleMode


@extend_schema_serializer(component_name="Rule")
class RuleOutputSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    kind = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    mode = serializers.ChoiceField(choices=RuleMode.choices)
    description = serializers.CharField()
    data = serializers.JSONField()
    revision = serializers.IntegerField(source="current_revision.number", allow_null=True, default=None)
    updated_at = serializers.DateTimeField()


def _rule_or_404(rule_id: str) -> Rule:
    rule = selectors.rule_get(rule_id=rule_id)
    if rule is None:
        raise Http404(f"No rule {rule_id}")
    return rule


class RuleListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema_serializer(component_name="RuleCreateInput")
    class InputSerializer(serializers.Serializer):
        rule = serializers.JSONField(help_text="The rule record: id, kind, category, mode, description, data.")
        reason = serializers.CharField(max_length=1000)

    OutputSerializer = RuleOutputSerializer

    @extend_schema(responses=RuleOutputSerializer(many=True), summary="List rules")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(selectors.rule_list(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: RuleOutputSerializer}, summary="Create a rule")
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.rule_create(
            actor=request.user, record=serializer.validated_data["rule"], reason=serializer.validated_data["reason"]
        )
        return Response(self.OutputSerializer(change.rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(APIView):
    """A rule; PATCH changes some of its fields (a new revision and ruleset version, or nothing)."""

    permission_classes = [IsAdmin]

    @extend_schema_serializer(component_name="RuleUpdateInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.CharField(required=False)
        category = serializers.CharField(required=False, allow_null=True)
        mode = serializers.ChoiceField(choices=RuleMode.choices, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        data = serializers.JSONField(required=False)
        reason = serializers.CharField(max_length=1000)

    OutputSerializer = RuleOutputSerializer

    @extend_schema(responses=RuleOutputSerializer, summary="Show a rule")
    def get(self, request: Request, rule_id: str) -> Response:
        return Response(self.OutputSerializer(_rule_or_404(rule_id)).data)

    @extend_schema(request=InputSerializer, responses=RuleOutputSerializer, summary="Change a rule")
    def patch(self, request: Request, rule_id: str) -> Response:
        rule = _rule_or_404(rule_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        reason = fields.pop("reason")
        change = services.rule_update(actor=request.user, rule=rule, reason=reason, **fields)
        return Response(self.OutputSerializer(change.rule).data)


class RuleRevisionListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema_serializer(component_name="RuleRevision")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.IntegerField()
        snapshot = serializers.JSONField()
        actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
        reason = serializers.CharField()
        ruleset_version = serializers.IntegerField(source="ruleset_version.number")
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), summary="A rule's revisions, newest first")
    def get(self, request: Request, rule_id: str) -> Response:
        rule = _rule_or_404(rule_id)
        return Response(self.OutputSerializer(selectors.rule_revisions(rule=rule), many=True).data)


@extend_schema_serializer(component_name="Backtest")
class BacktestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Backtest.Status.choices)
    processed = serializers.IntegerField()
    total = serializers.IntegerField()
    progress_percent = serializers.IntegerField()
    params = serializers.JSONField()
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class BacktestCreateApi(APIView):
    """Backtest a proposed rule (`rule`, new or edited) or an existing rule in a mode (`rule_id`, `mode`)."""

    permission_classes = [IsAdmin]

    @extend_schema_serializer(component_name="BacktestCreateInput")
    class InputSerializer(serializers.Serializer):
        rule = serializers.JSONField(required=False, help_text="A proposed rule record (new or an edit).")
        rule_id = serializers.CharField(required=False)
        mode = serializers.ChoiceField(choices=RuleMode.choices, required=False)
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)
        source = serializers.SlugField(required=False)

        def validate(self, attrs: dict) -> dict:
            if "rule" not in attrs and "rule_id" not in attrs:
                raise serializers.ValidationError("Give `rule` (a proposed record) or `rule_id`.")
            return attrs

    OutputSerializer = BacktestOutputSerializer

    @extend_schema(request=InputSerializer, responses={201: BacktestOutputSerializer}, summary="Start a backtest")
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        backtest = services.backtest_create(
            actor=request.user,
            record=data.get("rule"),
            rule_id=data.get("rule_id"),
            mode=data.get("mode"),
            since=data.get("since"),
            until=data.get("until"),
            source=data.get("source"),
        )
        backtest.refresh_from_db()
        return Response(self.OutputSerializer(backtest).data, status=status.HTTP_201_CREATED)


class BacktestDetailApi(APIView):
    permission_classes = [IsAdmin]
    OutputSerializer = BacktestOutputSerializer

    @extend_schema(responses=BacktestOutputSerializer, summary="A backtest's progress and result")
    def get(self, request: Request, backtest_id: int) -> Response:
        return Response(self.OutputSerializer(get_object_or_404(Backtest, pk=backtest_id)).data)

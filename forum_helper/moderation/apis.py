"""Queue API for moderators and admins (session or token auth). Views only translate."""
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import IsModerator
from forum_helper.moderation import selectors, services
from forum_helper.moderation.models import Decision

FILTER_PARAMETERS = [
    OpenApiParameter("tab", str, enum=list(selectors.TABS)),
    OpenApiParameter("severity", str, enum=list(selectors.SEVERITIES)),
    OpenApiParameter("category", str, enum=list(selectors.CATEGORIES)),
    OpenApiParameter("source", str, description="ForumSource slug"),
    OpenApiParameter("staff", str, enum=["yes", "no"]),
    OpenApiParameter("date_from", str, description="YYYY-MM-DD (item created on or after)"),
    OpenApiParameter("date_to", str, description="YYYY-MM-DD (item created on or before)"),
    OpenApiParameter("sort", str, enum=list(selectors.SORTS)),
    OpenApiParameter("page", int),
    OpenApiParameter("after", str, description="next_cursor of the previous response: the page after it (any depth, "
                                               "without OFFSET); `page` is then only echoed back"),
]


class ModeratorApi(APIView):
    """Token first so an anonymous caller gets 401 with `WWW-Authenticate: Token`, not 403."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsModerator]


def _item_fields(item) -> dict:
    post = item.post
    return {
        "id": item.pk, "status": item.status, "lane": item.lane, "priority": item.priority,
        "severity": item.severity, "categories": item.categories, "is_staff_author": item.is_staff_author,
        "claimed_by": item.claimed_by.get_username() if item.claimed_by else None, "claimed_at": item.claimed_at,
        "version": item.version, "edited_since_decision": item.edited_since_decision,
        "created_at": item.created_at, "updated_at": item.updated_at, "first_reviewed_at": item.first_reviewed_at,
        "post": {"id": post.pk, "external_id": post.external_id, "source": post.source.slug,
                 "thread_id": post.thread.external_id, "thread_title": post.thread.title,
                 "author_name": post.author_name, "author_role": post.author_role, "created_at": post.created_at},
        "finding_id": item.finding_id,
    }


class _PostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    source = serializers.CharField()
    thread_id = serializers.CharField()
    thread_title = serializers.CharField()
    author_name = serializers.CharField()
    author_role = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)


class _ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    lane = serializers.CharField()
    priority = serializers.IntegerField()
    severity = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    is_staff_author = serializers.BooleanField()
    claimed_by = serializers.CharField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    edited_since_decision = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    first_reviewed_at = serializers.DateTimeField(allow_null=True)
    post = _PostSerializer()
    finding_id = serializers.IntegerField()


class QueueCountsApi(ModeratorApi):

    @extend_schema_serializer(component_name="QueueCounts")
    class OutputSerializer(serializers.Serializer):
        open = serializers.IntegerField()
        mine = serializers.IntegerField()
        escalated = serializers.IntegerField()
        resolved = serializers.IntegerField()
        low = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer, summary="Item count of every queue tab (polled by the queue page)")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(selectors.queue_tab_counts(user=request.user)).data)


class QueueListApi(ModeratorApi):

    @extend_schema_serializer(component_name="QueueItemPage")
    class OutputSerializer(serializers.Serializer):
        page = serializers.IntegerField()
        has_next = serializers.BooleanField()
        next_cursor = serializers.CharField(help_text="pass as `after` for the next page; empty on the last page")
        results = _ItemSerializer(many=True)

    @extend_schema(operation_id="api_queue_list", parameters=FILTER_PARAMETERS, responses=OutputSerializer, summary="Queue items, 50 per page")
    def get(self, request: Request) -> Response:
        filters = selectors.QueueFilters.from_params(request.query_params)
        try:
            page_number = int(request.query_params.get("page", "1"))
        except ValueError:
            page_number = 1
        page = selectors.queue_page(user=request.user, filters=filters, page=page_number,
                                    after=request.query_params.get("after", ""))
        data = {"page": page.number, "has_next": page.has_next, "next_cursor": page.next_cursor,
                "results": [_item_fields(i) for i in page.items]}
        return Response(self.OutputSerializer(data).data)


class QueueItemDetailApi(ModeratorApi):

    @extend_schema_serializer(component_name="QueueItemDetail")
    class OutputSerializer(_ItemSerializer):
        class EvidenceSerializer(serializers.Serializer):
            start = serializers.IntegerField()
            end = serializers.IntegerField()
            text = serializers.CharField()
            category = serializers.CharField()
            rule = serializers.CharField()

        class ReferenceSerializer(serializers.Serializer):
            category = serializers.CharField()
            passage_id = serializers.CharField()
            document_id = serializers.CharField()
            document_title = serializers.CharField(allow_blank=True)
            heading = serializers.CharField(allow_blank=True)
            excerpt = serializers.CharField(allow_blank=True)
            library_url = serializers.CharField()
            dois = serializers.ListField(child=serializers.CharField())
            pinned = serializers.BooleanField()

        text = serializers.CharField()
        post_version = serializers.IntegerField()
        risky = serializers.BooleanField()
        stance = serializers.CharField()
        modifiers = serializers.ListField(child=serializers.CharField())
        explanation = serializers.CharField(allow_blank=True)
        rule_ids = serializers.ListField(child=serializers.CharField())
        rule_revisions = serializers.DictField()
        evidence = EvidenceSerializer(many=True)
        references = ReferenceSerializer(many=True)
        suggested_reply = serializers.CharField()

    @extend_schema(responses=OutputSerializer, summary="One queue item with its post text, evidence and references")
    def get(self, request: Request, item_id: int) -> Response:
        item = selectors.queue_item_get(item_id=item_id)
        if item is None:
            raise ApplicationError("This queue item does not exist.", status=404)
        detail = selectors.queue_item_detail(item=item, user=request.user)
        finding = detail.finding
        references = [
            {"passage_id": "", "document_id": "", "document_title": "", "heading": "", "excerpt": "", "dois": [],
             "pinned": False, "category": "", **selectors.reference_view(r)}
            for r in finding.references or []
        ]
        evidence = [{"text": "", "category": "", "rule": "", **e} for e in finding.evidence or []]
        data = {**_item_fields(item), "text": detail.text, "post_version": finding.post_version.version,
                "risky": finding.risky, "stance": finding.stance, "modifiers": finding.modifiers,
                "explanation": finding.explanation, "rule_ids": finding.rule_ids,
                "rule_revisions": finding.rule_revisions, "evidence": evidence, "references": references,
                "suggested_reply": detail.suggested_reply}
        return Response(self.OutputSerializer(data).data)


class QueueItemClaimApi(ModeratorApi):
    @extend_schema_serializer(component_name="QueueItemClaimInput")
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        action = serializers.ChoiceField(choices=["claim", "unclaim"], default="claim")

    @extend_schema_serializer(component_name="QueueItemClaimResult")
    class OutputSerializer(_ItemSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer},
                   summary="Claim (or unclaim) an item; 409 when someone else was first or the version is stale")
    def post(self, request: Request, item_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        service = services.queue_item_claim if data["action"] == "claim" else services.queue_item_unclaim
        service(item_id=item_id, actor=request.user, expected_version=data["version"])
        return Response(self.OutputSerializer(_item_fields(selectors.queue_item_get(item_id=item_id))).data)


class QueueItemDecideApi(ModeratorApi):
    @extend_schema_serializer(component_name="QueueDecisionInput")
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        kind = serializers.ChoiceField(choices=Decision.Kind.choices)
        reason = serializers.CharField(max_length=5000)
        action_taken = serializers.ChoiceField(choices=Decision.ActionTaken.choices, required=False, default="")

    @extend_schema_serializer(component_name="QueueDecision")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        item_id = serializers.IntegerField()
        finding_id = serializers.IntegerField()
        kind = serializers.CharField()
        action_taken = serializers.CharField(allow_blank=True)
        reason = serializers.CharField()
        actor = serializers.CharField()
        created_at = serializers.DateTimeField()
        undone = serializers.BooleanField()
        item_version = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer},
                   summary="Confirm, dismiss or escalate an item (reason required; 409 on a stale version)")
    def post(self, request: Request, item_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decision = services.decision_create(item_id=item_id, actor=request.user, kind=data["kind"],
                                            reason=data["reason"], action_taken=data["action_taken"],
                                            expected_version=data["version"])
        return Response(self.OutputSerializer(_decision_fields(decision)).data, status=status.HTTP_201_CREATED)


def _decision_fields(decision: Decision) -> dict:
    return {"id": decision.pk, "item_id": decision.item_id, "finding_id": decision.finding_id, "kind": decision.kind,
            "action_taken": decision.action_taken, "reason": decision.reason,
            "actor": decision.actor.get_username() if decision.actor else "", "created_at": decision.created_at,
            "undone": decision.undone, "item_version": decision.item.version}


class QueueItemUndoApi(ModeratorApi):
    @extend_schema_serializer(component_name="QueueUndoInput")
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)

    @extend_schema(request=InputSerializer, responses={200: QueueItemDecideApi.OutputSerializer},
                   summary="Undo the item's last decision")
    def post(self, request: Request, item_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = services.decision_undo(item_id=item_id, actor=request.user,
                                          expected_version=serializer.validated_data["version"])
        decision.item.refresh_from_db()
        return Response(QueueItemDecideApi.OutputSerializer(_decision_fields(decision)).data)


class QueueItemNotesApi(ModeratorApi):
    @extend_schema_serializer(component_name="QueueNoteInput")
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, required=False)
        text = serializers.CharField(max_length=10000)

    @extend_schema_serializer(component_name="QueueNote")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        author = serializers.CharField()
        text = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), summary="An item's notes, oldest first")
    def get(self, request: Request, item_id: int) -> Response:
        item = selectors.queue_item_get(item_id=item_id)
        if item is None:
            raise ApplicationError("This queue item does not exist.", status=404)
        return Response(self.OutputSerializer([_note_fields(n) for n in item.notes.select_related("author")], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, summary="Add a note")
    def post(self, request: Request, item_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_create(item_id=item_id, actor=request.user, text=serializer.validated_data["text"],
                                    expected_version=serializer.validated_data.get("version"))
        return Response(self.OutputSerializer(_note_fields(note)).data, status=status.HTTP_201_CREATED)


def _note_fields(note) -> dict:
    return {"id": note.pk, "author": note.author.get_username() if note.author else "", "text": note.text,
            "created_at": note.created_at}

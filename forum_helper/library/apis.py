"""Admin API for the reference library (IsAdmin): documents to read, pins to manage."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import IsAdmin
from forum_helper.library.models import Passage, Pin
from forum_helper.library.selectors import document_get, document_list, pin_list
from forum_helper.library.services import pin_create, pin_delete


class CitationSerializer(serializers.Serializer):
    text = serializers.CharField()
    doi = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "LibraryCitation"


class DocumentListApi(APIView):
    permission_classes = [IsAdmin]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
        source_url = serializers.URLField()
        publisher = serializers.CharField()
        citations = CitationSerializer(many=True)
        date_added = serializers.DateTimeField()
        passage_count = serializers.IntegerField()
        pin_count = serializers.IntegerField()

        class Meta:
            ref_name = "LibraryDocumentListItem"

    @extend_schema(operation_id="library_documents_list", responses=OutputSerializer(many=True), tags=["library"])
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(document_list(), many=True).data)


class DocumentDetailApi(APIView):
    permission_classes = [IsAdmin]

    class OutputSerializer(serializers.Serializer):
        class PassageSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            position = serializers.IntegerField()
            heading = serializers.CharField()
            text = serializers.CharField()
            anchor = serializers.CharField()
            pinned_categories = serializers.SerializerMethodField()
            pinned_rules = serializers.SerializerMethodField()

            class Meta:
                ref_name = "LibraryPassage"

            def get_pinned_categories(self, passage: Passage) -> list[str]:
                return sorted({p.category for p in passage.pins.all() if p.category})

            def get_pinned_rules(self, passage: Passage) -> list[str]:
                return sorted({p.rule_id for p in passage.pins.all() if p.rule_id})

        id = serializers.IntegerField()
        title = serializers.CharField()
        source_url = serializers.URLField()
        publisher = serializers.CharField()
        citations = CitationSerializer(many=True)
        dois = serializers.ListField(child=serializers.CharField())
        date_added = serializers.DateTimeField()
        passages = PassageSerializer(many=True)

        class Meta:
            ref_name = "LibraryDocumentDetail"

    @extend_schema(operation_id="library_documents_retrieve", responses=OutputSerializer, tags=["library"])
    def get(self, request: Request, document_id: int) -> Response:
        document = document_get(document_id=document_id)
        if document is None:
            raise ApplicationError("No such document.", status=404)
        return Response(self.OutputSerializer(document).data)


class PinOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    passage_id = serializers.IntegerField()
    document_id = serializers.IntegerField(source="passage.document_id")
    heading = serializers.CharField(source="passage.heading")
    category = serializers.CharField()
    rule_id = serializers.CharField()
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "LibraryPin"


class PinListApi(APIView):
    permission_classes = [IsAdmin]

    class FilterSerializer(serializers.Serializer):
        category = serializers.CharField(required=False, default="")
        rule_id = serializers.CharField(required=False, default="")

    class InputSerializer(serializers.Serializer):
        passage_id = serializers.IntegerField()
        category = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
        rule_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
        note = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "LibraryPinCreate"

    OutputSerializer = PinOutputSerializer

    @extend_schema(operation_id="library_pins_list", parameters=[FilterSerializer], responses=PinOutputSerializer(many=True), tags=["library"])
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(self.OutputSerializer(pin_list(**filters.validated_data), many=True).data)

    @extend_schema(operation_id="library_pins_create", request=InputSerializer, responses={201: PinOutputSerializer}, tags=["library"])
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        passage = Passage.objects.filter(pk=data.pop("passage_id")).first()
        if passage is None:
            raise ApplicationError("No such passage.", status=400, extra={"field": "passage_id"})
        pin = pin_create(passage=passage, actor=request.user, **data)
        return Response(self.OutputSerializer(pin).data, status=status.HTTP_201_CREATED)


class PinDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="library_pins_destroy", responses={204: None}, tags=["library"])
    def delete(self, request: Request, pin_id: int) -> Response:
        pin = Pin.objects.filter(pk=pin_id).first()
        if pin is None:
            raise ApplicationError("No such pin.", status=404)
        pin_delete(pin=pin, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

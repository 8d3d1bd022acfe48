from django.urls import path

from forum_helper.library import apis, views

app_name = "library"
urlpatterns = [
    path("", views.document_list_view, name="document_list"),
    path("documents/<int:document_id>/", views.document_detail_view, name="document_detail"),
    path("import/", views.document_import_view, name="document_import"),
    path("passages/<int:passage_id>/pin/", views.pin_create_view, name="pin_create"),
    path("pins/<int:pin_id>/delete/", views.pin_delete_view, name="pin_delete"),
    path("api/documents/", apis.DocumentListApi.as_view(), name="api_document_list"),
    path("api/documents/<int:document_id>/", apis.DocumentDetailApi.as_view(), name="api_document_detail"),
    path("api/pins/", apis.PinListApi.as_view(), name="api_pin_list"),
    path("api/pins/<int:pin_id>/", apis.PinDetailApi.as_view(), name="api_pin_detail"),
]

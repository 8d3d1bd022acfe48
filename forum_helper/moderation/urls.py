from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from forum_helper.moderation import apis, views

app_name = "moderation"
urlpatterns = [
    path("", views.RootView.as_view(), name="root"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("queue/<int:item_id>/", views.ItemView.as_view(), name="item"),
    path("queue/<int:item_id>/claim/", views.ItemClaimView.as_view(), name="claim"),
    path("queue/<int:item_id>/decide/", views.ItemDecideView.as_view(), name="decide"),
    path("queue/<int:item_id>/undo/", views.ItemUndoView.as_view(), name="undo"),
    path("queue/<int:item_id>/notes/", views.ItemNoteView.as_view(), name="note"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("api/token/", obtain_auth_token, name="api-token"),
    path("api/queue/", apis.QueueListApi.as_view(), name="api-list"),
    path("api/queue/counts/", apis.QueueCountsApi.as_view(), name="api-counts"),
    path("api/queue/<int:item_id>/", apis.QueueItemDetailApi.as_view(), name="api-detail"),
    path("api/queue/<int:item_id>/claim/", apis.QueueItemClaimApi.as_view(), name="api-claim"),
    path("api/queue/<int:item_id>/decide/", apis.QueueItemDecideApi.as_view(), name="api-decide"),
    path("api/queue/<int:item_id>/undo/", apis.QueueItemUndoApi.as_view(), name="api-undo"),
    path("api/queue/<int:item_id>/notes/", apis.QueueItemNotesApi.as_view(), name="api-notes"),
]

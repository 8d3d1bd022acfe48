from django.urls import path

from forum_helper.intake.apis import DiscourseWebhookApi, StandardWebhookApi

app_name = "intake"
urlpatterns = [
    path("discourse/<slug:source_slug>/", DiscourseWebhookApi.as_view(), name="webhook-discourse"),
    path("standard/<slug:source_slug>/", StandardWebhookApi.as_view(), name="webhook-standard"),
]

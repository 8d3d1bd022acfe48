"""The normal URLs plus the bare baselines the benchmarks compare against (bench settings only)."""
from django.urls import include, path

from forum_helper.intake.bench_views import BareQueuePageView, BareWebhookApi

urlpatterns = [
    path("bench/bare/<slug:source_slug>/", BareWebhookApi.as_view(), name="bench-bare-webhook"),
    path("bench/bare-queue/", BareQueuePageView.as_view(), name="bench-bare-queue"),
    path("", include("forum_helper.config.urls")),
]

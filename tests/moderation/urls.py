"""Fallback URLconf for these tests while other apps' modules are mid-change and fail to import.

Mirrors forum_helper/config/urls.py for everything the moderation app touches.
"""
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include("forum_helper.moderation.urls")),
]

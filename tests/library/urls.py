"""Fallback URLconf for the library tests while the project's root URLconf cannot be imported
(other apps in progress): the library's own mount plus what templates/base.html links to."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("library/", include("forum_helper.library.urls")),
    path("", include("forum_helper.moderation.urls")),
]

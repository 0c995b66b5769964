"""URLs: the admin site is the whole console."""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles import views as static_views
from django.urls import path, re_path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
]

if not settings.STATIC_BUCKET and settings.STATIC_URL.startswith("/"):
    # Locally the console serves its own static files, debug or not; in
    # production they come from S3 (STATIC_BUCKET) and this route is absent.
    urlpatterns += [
        re_path(
            rf"^{settings.STATIC_URL.lstrip('/')}(?P<path>.*)$",
            static_views.serve,
            {"insecure": True},
        )
    ]

"""Root URLs: the pages at /, the API under /api/, the admin (second factor required) under /admin/."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import defaults
from django_otp.admin import OTPAdminSite

from api.problems import api_not_found, api_server_error

admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Purse administration"
admin.site.site_title = "Purse administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("web.urls")),
]


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)

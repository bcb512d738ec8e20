from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import cash_equivalents, views
from api.streams import StreamListView, StreamServicesView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/cash-equivalents/", cash_equivalents.CashEquivalentView.as_view(), name="cash-equivalents"),
    path("v1/streams/", StreamListView.as_view(), name="stream-list"),
    path("v1/streams/<str:code>/services/", StreamServicesView.as_view(), name="stream-services"),
]

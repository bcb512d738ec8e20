"""The invoices pages' addresses: a person's invoices, one invoice and the decisions on it, and the person's
auto-approval rules."""

from django.urls import path

from web.views import invoices

urlpatterns = [
    path("people/<str:per>/invoices/", invoices.InvoiceListView.as_view(), name="invoices"),
    path("people/<str:per>/invoices/<str:inv>/", invoices.InvoiceDetailView.as_view(), name="invoice"),
    path(
        "people/<str:per>/invoices/<str:inv>/approve/",
        invoices.InvoiceApproveView.as_view(),
        name="invoice-approve",
    ),
    path(
        "people/<str:per>/invoices/<str:inv>/query/",
        invoices.InvoiceQueryView.as_view(),
        name="invoice-query",
    ),
    path(
        "people/<str:per>/invoices/<str:inv>/reject/",
        invoices.InvoiceRejectView.as_view(),
        name="invoice-reject",
    ),
    path("people/<str:per>/auto-approval/", invoices.AutoApprovalView.as_view(), name="auto-approval"),
    path(
        "people/<str:per>/auto-approval/<str:aar>/revoke/",
        invoices.AutoApprovalRevokeView.as_view(),
        name="auto-approval-revoke",
    ),
]

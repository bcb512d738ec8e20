"""The addresses of finance's payment runs and payment warnings (`/finance/...`) and of a care provider's
payouts page (`/provider/payouts/`)."""

from django.urls import path

from web.views import payment_runs, provider_payouts

urlpatterns = [
    path("finance/payment-runs/", payment_runs.RunListView.as_view(), name="payment-runs"),
    path("finance/payment-runs/start/", payment_runs.RunStartView.as_view(), name="payment-run-start"),
    path("finance/payment-runs/<str:run>/", payment_runs.RunDetailView.as_view(), name="payment-run"),
    path(
        "finance/payment-runs/<str:run>/resume/",
        payment_runs.RunResumeView.as_view(),
        name="payment-run-resume",
    ),
    path(
        "finance/payment-runs/<str:run>/bacs-file/",
        payment_runs.BacsFileDownloadView.as_view(),
        name="payment-run-bacs-file",
    ),
    path(
        "finance/payment-runs/<str:run>/bacs-file/uploaded/",
        payment_runs.BacsFileUploadedView.as_view(),
        name="payment-run-bacs-uploaded",
    ),
    path(
        "finance/payment-runs/<str:run>/bacs-file/cancel/",
        payment_runs.BacsFileCancelView.as_view(),
        name="payment-run-bacs-cancel",
    ),
    path("finance/payment-warnings/", payment_runs.WarningListView.as_view(), name="payment-warnings"),
    path(
        "finance/payment-warnings/<str:payment>/seen/",
        payment_runs.WarningSeenView.as_view(),
        name="payment-warning-seen",
    ),
    path("provider/payouts/", provider_payouts.PayoutsView.as_view(), name="provider-payouts"),
    path(
        "provider/payouts/stripe-return/",
        provider_payouts.PayoutsReturnView.as_view(),
        name="provider-payouts-return",
    ),
]

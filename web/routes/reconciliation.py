"""The addresses of finance's reconciliation pages (`/finance/reconciliation/...`): the accounts, uploading a
statement, an import's lines, one line (matching by hand, unmatching, a suggestion rejected), and an
account's report for a period with its CSV and PDF and "Mark reconciled"."""

from django.urls import path

from web.views import reconciliation

urlpatterns = [
    path("finance/reconciliation/", reconciliation.OverviewView.as_view(), name="reconciliation"),
    path(
        "finance/reconciliation/upload/",
        reconciliation.UploadView.as_view(),
        name="reconciliation-upload",
    ),
    path(
        "finance/reconciliation/imports/<str:imp>/",
        reconciliation.ImportView.as_view(),
        name="reconciliation-import",
    ),
    path(
        "finance/reconciliation/lines/<str:stl>/",
        reconciliation.LineView.as_view(),
        name="reconciliation-line",
    ),
    path(
        "finance/reconciliation/lines/<str:stl>/match/",
        reconciliation.LineMatchView.as_view(),
        name="reconciliation-line-match",
    ),
    path(
        "finance/reconciliation/lines/<str:stl>/unmatch/",
        reconciliation.LineUnmatchView.as_view(),
        name="reconciliation-line-unmatch",
    ),
    path(
        "finance/reconciliation/suggestions/<str:rcm>/reject/",
        reconciliation.MatchRejectView.as_view(),
        name="reconciliation-match-reject",
    ),
    path(
        "finance/reconciliation/accounts/<str:rca>/",
        reconciliation.AccountView.as_view(),
        name="reconciliation-account",
    ),
    path(
        "finance/reconciliation/accounts/<str:rca>/lines/",
        reconciliation.AccountLinesView.as_view(),
        name="reconciliation-account-lines",
    ),
    path(
        "finance/reconciliation/accounts/<str:rca>/report/",
        reconciliation.ReportView.as_view(),
        name="reconciliation-report",
    ),
    path(
        "finance/reconciliation/accounts/<str:rca>/report/csv/",
        reconciliation.ReportCsvView.as_view(),
        name="reconciliation-report-csv",
    ),
    path(
        "finance/reconciliation/accounts/<str:rca>/report/pdf/",
        reconciliation.ReportPdfView.as_view(),
        name="reconciliation-report-pdf",
    ),
    path(
        "finance/reconciliation/accounts/<str:rca>/reconcile/",
        reconciliation.ReconcileView.as_view(),
        name="reconciliation-reconcile",
    ),
]

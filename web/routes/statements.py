"""The addresses of agency statements (`/streams/...`) and of finance's statement runs
(`/finance/statement-runs/...`); a person's statements are with the other person pages."""

from django.urls import path

from web.views import statement_runs, stream_statements

urlpatterns = [
    path("streams/", stream_statements.StreamListView.as_view(), name="stream-statements"),
    path(
        "streams/<str:code>/statements/",
        stream_statements.StreamStatementView.as_view(),
        name="stream-statement",
    ),
    path(
        "streams/<str:code>/statements/csv/",
        stream_statements.StreamStatementCsvView.as_view(),
        name="stream-statement-csv",
    ),
    path(
        "streams/<str:code>/statements/pdf/",
        stream_statements.StreamStatementPdfView.as_view(),
        name="stream-statement-pdf",
    ),
    path(
        "streams/<str:code>/statements/<str:stm>/pdf/",
        stream_statements.StreamIssuedStatementPdfView.as_view(),
        name="stream-issued-statement-pdf",
    ),
    path("finance/statement-runs/", statement_runs.RunListView.as_view(), name="statement-runs"),
    path("finance/statement-runs/start/", statement_runs.RunStartView.as_view(), name="statement-run-start"),
    path("finance/statement-runs/<str:run>/", statement_runs.RunDetailView.as_view(), name="statement-run"),
    path(
        "finance/statement-runs/<str:run>/resume/",
        statement_runs.RunResumeView.as_view(),
        name="statement-run-resume",
    ),
    path(
        "finance/statement-runs/<str:run>/retry/",
        statement_runs.RunRetryView.as_view(),
        name="statement-run-retry",
    ),
]

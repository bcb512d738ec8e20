from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import cash_equivalents, directory, funding, invoicing, plans, statements, views
from api.idempotency import idempotent_routes
from api.payments import (
    BacsFileCancelView,
    BacsFileConfirmView,
    BacsFileView,
    PaymentAcknowledgeView,
    PaymentRunListView,
    PaymentRunPaymentListView,
    PaymentRunView,
    PaymentView,
    PaymentWarningListView,
)
from api.streams import StreamListView, StreamServicesView
from api.timeline import MessageView, NoteView, TimelineView
from api.webhooks import StripeWebhookView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/webhooks/stripe/", StripeWebhookView.as_view(), name="webhook-stripe"),
    path("v1/cash-equivalents/", cash_equivalents.CashEquivalentView.as_view(), name="cash-equivalents"),
    path("v1/streams/", StreamListView.as_view(), name="stream-list"),
    path("v1/streams/<str:code>/services/", StreamServicesView.as_view(), name="stream-services"),
    path(
        "v1/streams/<str:code>/funding-receipts/",
        funding.FundingReceiptListView.as_view(),
        name="stream-funding-receipts",
    ),
    path("v1/instalments/late/", funding.LateInstalmentListView.as_view(), name="instalments-late"),
    path("v1/people/", plans.PersonListView.as_view(), name="person-list"),
    path("v1/people/<str:per>/", plans.PersonView.as_view(), name="person-detail"),
    path("v1/people/<str:per>/plan/", plans.PlanView.as_view(), name="person-plan"),
    path(
        "v1/people/<str:per>/plan/versions/",
        plans.PlanVersionStartView.as_view(),
        name="person-plan-versions",
    ),
    path("v1/plan-versions/<str:plv>/", plans.PlanVersionView.as_view(), name="plan-version-detail"),
    path(
        "v1/plan-versions/<str:plv>/outcomes/", plans.OutcomeListView.as_view(), name="plan-version-outcomes"
    ),
    path(
        "v1/plan-versions/<str:plv>/outcomes/<str:out>/",
        plans.OutcomeView.as_view(),
        name="plan-version-outcome",
    ),
    path(
        "v1/plan-versions/<str:plv>/informal-support/",
        plans.InformalSupportListView.as_view(),
        name="plan-version-informal-supports",
    ),
    path(
        "v1/plan-versions/<str:plv>/informal-support/<str:inf>/",
        plans.InformalSupportView.as_view(),
        name="plan-version-informal-support",
    ),
    path("v1/plan-versions/<str:plv>/items/", plans.SupportItemListView.as_view(), name="plan-version-items"),
    path(
        "v1/plan-versions/<str:plv>/items/<str:si>/",
        plans.SupportItemView.as_view(),
        name="plan-version-item",
    ),
    path(
        "v1/plan-versions/<str:plv>/agree/", plans.PlanVersionAgreeView.as_view(), name="plan-version-agree"
    ),
    path(
        "v1/plan-versions/<str:plv>/streams/<str:code>/approve/",
        plans.StreamApproveView.as_view(),
        name="plan-version-stream-approve",
    ),
    path(
        "v1/plan-versions/<str:plv>/streams/<str:code>/return/",
        plans.StreamReturnView.as_view(),
        name="plan-version-stream-return",
    ),
    path(
        "v1/plan-versions/<str:plv>/withdraw/",
        plans.PlanVersionWithdrawView.as_view(),
        name="plan-version-withdraw",
    ),
    path(
        "v1/plan-versions/<str:plv>/compare/",
        plans.PlanVersionCompareView.as_view(),
        name="plan-version-compare",
    ),
    path("v1/plan-versions/<str:plv>/reviews/", plans.ReviewListView.as_view(), name="plan-version-reviews"),
    path(
        "v1/plan-versions/<str:plv>/review-due/",
        plans.ReviewDueView.as_view(),
        name="plan-version-review-due",
    ),
    path("v1/people/<str:per>/timeline/", TimelineView.as_view(), name="person-timeline"),
    path("v1/people/<str:per>/notes/", NoteView.as_view(), name="person-notes"),
    path("v1/people/<str:per>/messages/", MessageView.as_view(), name="person-messages"),
    path(
        "v1/people/<str:per>/auto-approval-rules/",
        invoicing.AutoApprovalRuleListView.as_view(),
        name="person-auto-approval-rules",
    ),
    path(
        "v1/auto-approval-rules/<str:aar>/revoke/",
        invoicing.AutoApprovalRuleRevokeView.as_view(),
        name="auto-approval-rule-revoke",
    ),
    path("v1/engagements/", invoicing.EngagementListView.as_view(), name="engagement-list"),
    path("v1/invoices/", invoicing.InvoiceListView.as_view(), name="invoice-list"),
    path("v1/invoices/<str:id>/", invoicing.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("v1/invoices/<str:id>/approve/", invoicing.InvoiceApproveView.as_view(), name="invoice-approve"),
    path("v1/invoices/<str:id>/query/", invoicing.InvoiceQueryView.as_view(), name="invoice-query"),
    path("v1/invoices/<str:id>/reject/", invoicing.InvoiceRejectView.as_view(), name="invoice-reject"),
    path("v1/invoices/<str:id>/withdraw/", invoicing.InvoiceWithdrawView.as_view(), name="invoice-withdraw"),
    path("v1/remittances/", invoicing.RemittanceListView.as_view(), name="remittance-list"),
    path(
        "v1/people/<str:per>/statements/", statements.PersonStatementView.as_view(), name="person-statements"
    ),
    path(
        "v1/people/<str:per>/statements/issued/",
        statements.PersonIssuedStatementListView.as_view(),
        name="person-statements-issued",
    ),
    path(
        "v1/streams/<str:code>/statements/",
        statements.StreamStatementView.as_view(),
        name="stream-statements",
    ),
    path(
        "v1/streams/<str:code>/statements/issued/",
        statements.StreamIssuedStatementListView.as_view(),
        name="stream-statements-issued",
    ),
    path("v1/statements/<str:stm>/", statements.IssuedStatementView.as_view(), name="statement-detail"),
    path("v1/statement-runs/", statements.StatementRunListView.as_view(), name="statement-run-list"),
    path("v1/statement-runs/<str:run>/", statements.StatementRunView.as_view(), name="statement-run-detail"),
    path(
        "v1/statement-runs/<str:run>/resume/",
        statements.StatementRunResumeView.as_view(),
        name="statement-run-resume",
    ),
    path(
        "v1/statement-runs/<str:run>/retry/",
        statements.StatementRunRetryView.as_view(),
        name="statement-run-retry",
    ),
    path("v1/payment-runs/", PaymentRunListView.as_view(), name="payment-run-list"),
    path("v1/payment-runs/<str:run>/", PaymentRunView.as_view(), name="payment-run-detail"),
    path(
        "v1/payment-runs/<str:run>/payments/",
        PaymentRunPaymentListView.as_view(),
        name="payment-run-payments",
    ),
    path("v1/payments/<str:payment>/", PaymentView.as_view(), name="payment-detail"),
    path(
        "v1/payments/<str:payment>/acknowledge/", PaymentAcknowledgeView.as_view(), name="payment-acknowledge"
    ),
    path("v1/payment-warnings/", PaymentWarningListView.as_view(), name="payment-warning-list"),
    path("v1/bacs-files/<str:bacs_file>/", BacsFileView.as_view(), name="bacs-file-detail"),
    path("v1/bacs-files/<str:bacs_file>/confirm/", BacsFileConfirmView.as_view(), name="bacs-file-confirm"),
    path("v1/bacs-files/<str:bacs_file>/cancel/", BacsFileCancelView.as_view(), name="bacs-file-cancel"),
]

# Surplus audits, legitimate reserves and reclaim notices (issue 9).
from api import reclaims  # noqa: E402

urlpatterns += [
    path("v1/streams/<str:code>/surplus/", reclaims.StreamSurplusView.as_view(), name="stream-surplus"),
    path("v1/people/<str:per>/reserves/", reclaims.PersonReserveListView.as_view(), name="person-reserves"),
    path("v1/reserves/<str:rsv>/release/", reclaims.ReserveReleaseView.as_view(), name="reserve-release"),
    path("v1/reclaims/", reclaims.ReclaimNoticeListView.as_view(), name="reclaim-list"),
    path("v1/reclaims/<str:rcl>/", reclaims.ReclaimNoticeView.as_view(), name="reclaim-detail"),
    path("v1/reclaims/<str:rcl>/respond/", reclaims.ReclaimRespondView.as_view(), name="reclaim-respond"),
    path("v1/reclaims/<str:rcl>/withdraw/", reclaims.ReclaimWithdrawView.as_view(), name="reclaim-withdraw"),
    path("v1/reclaims/<str:rcl>/post/", reclaims.ReclaimPostView.as_view(), name="reclaim-post"),
]

# Reconciliation: bank and Stripe statements matched to the ledger (api.md, "For finance").
from api import reconciliation  # noqa: E402

urlpatterns += [
    path(
        "v1/reconciliation/accounts/",
        reconciliation.ReconciliationAccountListView.as_view(),
        name="reconciliation-account-list",
    ),
    path(
        "v1/reconciliation/accounts/<str:rca>/csv-mapping/",
        reconciliation.CsvMappingView.as_view(),
        name="reconciliation-account-csv-mapping",
    ),
    path(
        "v1/reconciliation/accounts/<str:rca>/report/",
        reconciliation.ReconciliationReportView.as_view(),
        name="reconciliation-account-report",
    ),
    path(
        "v1/reconciliation/accounts/<str:rca>/periods/",
        reconciliation.ReconciledPeriodListView.as_view(),
        name="reconciliation-account-periods",
    ),
    path(
        "v1/reconciliation/imports/",
        reconciliation.StatementImportListView.as_view(),
        name="reconciliation-import-list",
    ),
    path(
        "v1/reconciliation/imports/<str:imp>/",
        reconciliation.StatementImportView.as_view(),
        name="reconciliation-import-detail",
    ),
    path(
        "v1/reconciliation/imports/<str:imp>/lines/",
        reconciliation.StatementImportLineListView.as_view(),
        name="reconciliation-import-lines",
    ),
    path(
        "v1/reconciliation/lines/<str:stl>/",
        reconciliation.StatementLineView.as_view(),
        name="reconciliation-line",
    ),
    path(
        "v1/reconciliation/lines/<str:stl>/match/",
        reconciliation.LineMatchView.as_view(),
        name="reconciliation-line-match",
    ),
    path(
        "v1/reconciliation/lines/<str:stl>/unmatch/",
        reconciliation.LineUnmatchView.as_view(),
        name="reconciliation-line-unmatch",
    ),
    path(
        "v1/reconciliation/matches/<str:rcm>/confirm/",
        reconciliation.MatchConfirmView.as_view(),
        name="reconciliation-match-confirm",
    ),
    path(
        "v1/reconciliation/matches/<str:rcm>/reject/",
        reconciliation.MatchRejectView.as_view(),
        name="reconciliation-match-reject",
    ),
    path("v1/directory/services/", directory.DirectoryServiceListView.as_view(), name="directory-services"),
    path(
        "v1/directory/services/<uuid:service_id>/",
        directory.DirectoryServiceView.as_view(),
        name="directory-service",
    ),
]

# Every POST honours Idempotency-Key (api.md): keep this the last line, so that no route is left out.
urlpatterns = idempotent_routes(urlpatterns)

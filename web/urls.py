from django.urls import path

from web.routes import invoices, navigator, officer, person, statements
from web.routes import payments as payment_routes
from web.views import account, funding

app_name = "web"

urlpatterns = [
    path("", account.HomeView.as_view(), name="home"),
    path("sign-in/", account.SignInView.as_view(), name="sign-in"),
    path("sign-out/", account.SignOutView.as_view(), name="sign-out"),
    path("session/keep-alive/", account.KeepAliveView.as_view(), name="keep-alive"),
    path("password-reset/", account.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", account.PasswordResetSentView.as_view(), name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("password-reset/done/", account.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("sign-in/code/", account.SecondFactorVerifyView.as_view(), name="second-factor-verify"),
    path(
        "sign-in/backup-code/",
        account.SecondFactorVerifyView.as_view(backup_code=True),
        name="second-factor-backup-code",
    ),
    path(
        "sign-in/set-up-authenticator/", account.SecondFactorSetupView.as_view(), name="second-factor-setup"
    ),
    path("settings/tokens/", account.TokenListView.as_view(), name="tokens"),
    path("settings/tokens/<str:public_id>/revoke/", account.TokenRevokeView.as_view(), name="token-revoke"),
    path("settings/api-keys/", account.ApiKeyListView.as_view(), name="api-keys"),
    path(
        "settings/api-keys/<str:public_id>/revoke/", account.ApiKeyRevokeView.as_view(), name="api-key-revoke"
    ),
    *person.urlpatterns,
    *invoices.urlpatterns,
    *navigator.urlpatterns,
    *officer.urlpatterns,
    *statements.urlpatterns,
    *payment_routes.urlpatterns,
    path("finance/funding/", funding.LateView.as_view(), name="funding"),
    path("finance/funding/receipts/", funding.ReceiptListView.as_view(), name="funding-receipts"),
    path("finance/funding/receipts/<str:rcv>/", funding.ReceiptView.as_view(), name="funding-receipt"),
    path("finance/funding/<str:code>/record/", funding.RecordView.as_view(), name="funding-record"),
]

# Surplus audits, legitimate reserves and reclaim notices (issue 9).
from web.routes import reclaims as reclaim_routes  # noqa: E402

urlpatterns += reclaim_routes.urlpatterns

# Reconciliation of the bank and Stripe statements against the ledger (issue 9).
from web.routes import reconciliation as reconciliation_routes  # noqa: E402

urlpatterns += reconciliation_routes.urlpatterns

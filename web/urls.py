from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("sign-in/code/", views.SecondFactorVerifyView.as_view(), name="second-factor-verify"),
    path(
        "sign-in/backup-code/",
        views.SecondFactorVerifyView.as_view(backup_code=True),
        name="second-factor-backup-code",
    ),
    path("sign-in/set-up-authenticator/", views.SecondFactorSetupView.as_view(), name="second-factor-setup"),
    path("settings/tokens/", views.TokenListView.as_view(), name="tokens"),
    path("settings/tokens/<str:public_id>/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("settings/api-keys/", views.ApiKeyListView.as_view(), name="api-keys"),
    path(
        "settings/api-keys/<str:public_id>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"
    ),
]

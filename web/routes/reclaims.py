"""The addresses of the surplus and reclaim pages: a person's reserves and notices (`/people/<per>/...`), and
finance's and the agencies' surplus audits and notices (`/surplus/...`, `/reclaims/...`)."""

from django.urls import path

from web.views import reclaims

urlpatterns = [
    path("people/<str:per>/reserves/", reclaims.ReservesView.as_view(), name="reserves"),
    path(
        "people/<str:per>/reserves/<str:rsv>/release/",
        reclaims.ReserveReleaseView.as_view(),
        name="reserve-release",
    ),
    path("people/<str:per>/reclaims/", reclaims.PersonNoticesView.as_view(), name="person-reclaims"),
    path(
        "people/<str:per>/reclaims/<str:rcl>/reply/",
        reclaims.PersonNoticeReplyView.as_view(),
        name="person-reclaim-reply",
    ),
    path("surplus/", reclaims.SurplusStreamsView.as_view(), name="surplus"),
    path("surplus/<str:code>/", reclaims.SurplusAuditView.as_view(), name="surplus-audit"),
    path("surplus/<str:code>/notices/", reclaims.StreamNoticesView.as_view(), name="surplus-notices"),
    path(
        "surplus/<str:code>/people/<str:per>/notice/",
        reclaims.GiveNoticeView.as_view(),
        name="surplus-give-notice",
    ),
    path("reclaims/<str:rcl>/", reclaims.NoticeView.as_view(), name="reclaim"),
    path("reclaims/<str:rcl>/reclaim/", reclaims.NoticeReclaimView.as_view(), name="reclaim-post"),
    path("reclaims/<str:rcl>/withdraw/", reclaims.NoticeWithdrawView.as_view(), name="reclaim-withdraw"),
]

"""The agency officer's pages' addresses."""

from django.urls import path

from web.views import officer

urlpatterns = [
    path("approvals/", officer.ApprovalListView.as_view(), name="approvals"),
    path("approvals/decided/", officer.DecidedListView.as_view(), name="approvals-decided"),
    path("approvals/<str:plv>/<str:stream_code>/", officer.ApprovalDetailView.as_view(), name="approval"),
    path(
        "approvals/<str:plv>/<str:stream_code>/approve/",
        officer.ApprovalApproveView.as_view(),
        name="approval-approve",
    ),
    path(
        "approvals/<str:plv>/<str:stream_code>/return/",
        officer.ApprovalReturnView.as_view(),
        name="approval-return",
    ),
    path("funded-people/", officer.FundedPeopleView.as_view(), name="funded-people"),
]

"""The navigator pages' addresses."""

from django.urls import path

from web.views import navigator

urlpatterns = [
    path("caseload/", navigator.CaseloadView.as_view(), name="caseload"),
    path("people/<str:per>/plan/edit/", navigator.PlanEditView.as_view(), name="plan-edit"),
    path("people/<str:per>/plan/edit/cost/", navigator.PlanItemCostView.as_view(), name="plan-item-cost"),
    path("people/<str:per>/plan/edit/items/new/", navigator.SupportItemView.as_view(), name="plan-item-add"),
    path(
        "people/<str:per>/plan/edit/items/<str:si>/",
        navigator.SupportItemView.as_view(),
        name="plan-item-edit",
    ),
    path(
        "people/<str:per>/plan/edit/outcomes/<str:out>/",
        navigator.OutcomeEditView.as_view(),
        name="plan-outcome-edit",
    ),
    path("people/<str:per>/plan/edit/withdraw/", navigator.PlanWithdrawView.as_view(), name="plan-withdraw"),
    path("people/<str:per>/reviews/", navigator.ReviewsView.as_view(), name="reviews"),
]

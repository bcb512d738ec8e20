"""The addresses of the pages about one person (`/people/<per>/...`)."""

from django.urls import path

from web.views import person, plan, statements, timeline

urlpatterns = [
    path("people/<str:per>/", person.PersonHomeView.as_view(), name="person-home"),
    path("people/<str:per>/plan/", plan.PlanView.as_view(), name="plan"),
    path("people/<str:per>/plan/<str:plv>/agree/", plan.PlanAgreeView.as_view(), name="plan-agree"),
    path("people/<str:per>/statements/", statements.StatementsView.as_view(), name="statements"),
    path("people/<str:per>/statements/pdf/", statements.StatementPdfView.as_view(), name="statement-pdf"),
    path(
        "people/<str:per>/statements/<str:stm>/pdf/",
        statements.IssuedStatementPdfView.as_view(),
        name="issued-statement-pdf",
    ),
    path("people/<str:per>/timeline/", timeline.TimelineView.as_view(), name="timeline"),
    path("people/<str:per>/timeline/messages/", timeline.MessageSendView.as_view(), name="timeline-message"),
    path("people/<str:per>/timeline/notes/", timeline.NoteAddView.as_view(), name="timeline-note"),
    path(
        "people/<str:per>/timeline/notes/<str:tle>/correct/",
        timeline.NoteCorrectView.as_view(),
        name="timeline-note-correct",
    ),
]

"""Cursor pagination for every list: `{"results": [...], "next": url-or-null, "previous": url-or-null}`."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

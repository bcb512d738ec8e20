from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.templatetags.purse import day, money, money_words


class TestMoney:
    def test_minor_units_as_people_read_them(self):
        assert money(194707, "GBP") == "£1,947.07"
        assert money(-500, "GBP") == "-£5.00"
        assert money(None, "GBP") == ""

    @pytest.mark.parametrize(
        ("minor", "words"),
        [
            (0, "zero pounds"),
            (1, "zero pounds and one penny"),
            (100, "one pound"),
            (1207, "twelve pounds and seven pence"),
            (194707, "one thousand, nine hundred and forty-seven pounds and seven pence"),
            (-250, "minus two pounds and fifty pence"),
        ],
    )
    def test_in_words(self, minor, words):
        assert money_words(minor, "GBP") == words

    @given(st.integers(min_value=0, max_value=10**11))
    def test_words_name_the_pence_exactly_once_when_there_are_any(self, minor):
        words = money_words(minor, "GBP")
        assert words.count("pence") + words.count("penny") == (1 if minor % 100 else 0)


class TestDay:
    def test_dates_and_times(self, settings):
        settings.TIME_ZONE = "Europe/London"
        assert day(date(2026, 5, 15)) == "15 May 2026"
        assert day(datetime(2026, 7, 1, 8, 30, tzinfo=UTC)) == "1 July 2026, 09:30"
        assert day(None) == ""

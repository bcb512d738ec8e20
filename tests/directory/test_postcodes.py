"""Postcodes: normalising, locating from the loaded table, distances, and the `postcodes_load` command."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from directory.models import Postcode
from directory.postcodes import (
    InvalidPostcode,
    UnknownPostcode,
    distance_miles,
    postcode_locate,
    postcode_normalise,
)
from tests.directory.factories import PostcodeFactory

LEEDS = (Decimal("53.7995"), Decimal("-1.5491"))
BRADFORD = (Decimal("53.7950"), Decimal("-1.7520"))


class TestPostcodeNormalise:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("ls15hd", "LS1 5HD"),
            ("  LS1   5HD ", "LS1 5HD"),
            ("bd1 1hy", "BD1 1HY"),
            ("SW1A1AA", "SW1A 1AA"),
            ("M1 1AE", "M1 1AE"),
            ("EC1A 1BB", "EC1A 1BB"),
            ("gir0aa", "GIR 0AA"),
        ],
    )
    def test_normalises_a_valid_postcode(self, text, expected):
        assert postcode_normalise(text) == expected

    @pytest.mark.parametrize("text", ["", "   ", "LS1", "LS1 5H", "12345", "LS1 5HDX", "L$1 5HD", "1S1 5HD"])
    def test_refuses_a_malformed_postcode(self, text):
        with pytest.raises(InvalidPostcode) as raised:
            postcode_normalise(text)
        assert raised.value.code == "invalid_postcode"
        assert "postcode" in raised.value.message


@pytest.mark.django_db
class TestPostcodeLocate:
    def test_a_known_postcode_is_exact(self):
        PostcodeFactory(postcode="LS1 5HD", latitude=LEEDS[0], longitude=LEEDS[1])

        point = postcode_locate("ls15hd")

        assert point.postcode == "LS1 5HD"
        assert (point.latitude, point.longitude) == LEEDS
        assert point.is_approximate is False

    def test_an_unknown_postcode_in_a_known_outward_code_is_the_mean_of_it(self):
        PostcodeFactory(postcode="LS1 5HD", latitude=Decimal("53.800000"), longitude=Decimal("-1.550000"))
        PostcodeFactory(postcode="LS1 4AP", latitude=Decimal("53.790000"), longitude=Decimal("-1.540000"))
        PostcodeFactory(postcode="LS2 7HY", latitude=Decimal("53.900000"), longitude=Decimal("-1.600000"))

        point = postcode_locate("LS1 9ZZ")

        assert point.postcode == "LS1 9ZZ"
        assert point.latitude == Decimal("53.795000")
        assert point.longitude == Decimal("-1.545000")
        assert point.is_approximate is True

    def test_an_unknown_postcode_and_outward_code_is_refused(self):
        PostcodeFactory(postcode="LS1 5HD")

        with pytest.raises(UnknownPostcode) as raised:
            postcode_locate("zz9 9zz")

        assert raised.value.code == "unknown_postcode"
        assert raised.value.message == (
            "We do not know where ZZ9 9ZZ is; check it, or search without a distance."
        )

    def test_a_malformed_postcode_is_invalid_not_unknown(self):
        with pytest.raises(InvalidPostcode):
            postcode_locate("not a postcode")


class TestDistanceMiles:
    def test_leeds_to_bradford(self):
        miles = distance_miles(*LEEDS, *BRADFORD)

        assert miles == Decimal("8.3")  # haversine, R = 3958.8 miles
        assert isinstance(miles, Decimal)

    def test_a_point_to_itself_is_zero(self):
        assert distance_miles(*LEEDS, *LEEDS) == Decimal("0.0")

    @given(
        st.decimals(min_value=-89, max_value=89, places=6),
        st.decimals(min_value=-179, max_value=179, places=6),
        st.decimals(min_value=-89, max_value=89, places=6),
        st.decimals(min_value=-179, max_value=179, places=6),
    )
    def test_distance_is_symmetric_and_zero_to_itself(self, a_lat, a_lon, b_lat, b_lon):
        there = distance_miles(a_lat, a_lon, b_lat, b_lon)

        assert there == distance_miles(b_lat, b_lon, a_lat, a_lon)
        assert distance_miles(a_lat, a_lon, a_lat, a_lon) == 0
        assert Decimal("0") <= there <= Decimal("12437.2")  # half the Earth's circumference


@pytest.mark.django_db
class TestPostcodesLoadCommand:
    def _write(self, tmp_path, text: str):
        path = tmp_path / "postcodes.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def test_loads_a_good_file_and_updates_on_a_second_load(self, tmp_path, capsys):
        PostcodeFactory(postcode="LS1 5HD", latitude=Decimal("1.000000"), longitude=Decimal("1.000000"))
        path = self._write(
            tmp_path,
            "pcd,pcds,doterm,lat,long\n"
            "LS1  5HD,LS1 5HD,,53.799500,-1.549100\n"
            "BD1  1HY,BD1 1HY,,53.795000,-1.752000\n",
        )

        call_command("postcodes_load", path, batch_size=1)

        assert "2 postcodes loaded, 0 lines refused." in capsys.readouterr().out
        assert Postcode.objects.count() == 2
        leeds = Postcode.objects.get(postcode="LS1 5HD")
        assert (leeds.outward_code, leeds.latitude, leeds.longitude) == ("LS1", *LEEDS)
        assert Postcode.objects.get(postcode="BD1 1HY").outward_code == "BD1"

    def test_accepts_open_postcode_geo_column_names(self, tmp_path):
        path = self._write(tmp_path, "postcode,latitude,longitude\nls15hd,53.7995,-1.5491\n")

        call_command("postcodes_load", path)

        assert Postcode.objects.get().postcode == "LS1 5HD"

    def test_refuses_bad_lines_with_their_line_number_and_reason(self, tmp_path, capsys):
        path = self._write(
            tmp_path,
            "pcds,lat,long\n"
            "LS1 5HD,53.7995,-1.5491\n"
            "NOT A CODE,53.7995,-1.5491\n"
            "BD1 1HY,99.999999,0.000000\n"
            "BD1 1HY,north,-1.752\n"
            "LS2 7HY,53.8,-1.55\n",
        )

        call_command("postcodes_load", path)

        output = capsys.readouterr()
        assert "2 postcodes loaded, 3 lines refused." in output.out
        assert "Line 3: refused, 'NOT A CODE' is not a UK postcode." in output.err
        assert "Line 4: refused, BD1 1HY has no usable latitude and longitude." in output.err
        assert "Line 5: refused" in output.err
        assert set(Postcode.objects.values_list("postcode", flat=True)) == {"LS1 5HD", "LS2 7HY"}

    def test_a_missing_column_exits_1_with_a_plain_message(self, tmp_path):
        path = self._write(tmp_path, "pcds,lat\nLS1 5HD,53.7995\n")

        with pytest.raises(CommandError) as raised:
            call_command("postcodes_load", path)

        assert raised.value.returncode == 1
        assert "no 'long' or 'longitude' column" in str(raised.value)
        assert Postcode.objects.count() == 0

    def test_a_missing_file_is_a_plain_error(self, tmp_path):
        with pytest.raises(CommandError, match="There is no file"):
            call_command("postcodes_load", str(tmp_path / "nope.csv"))

"""Boundary files for kecamatan maps: read, checked against the region list, drawn."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas", reason="geopandas is installed by the test extra; maps need it")
from shapely.geometry import box  # noqa: E402

from welfare_eval import maps, plots, regions  # noqa: E402
from welfare_eval.exceptions import DataValidationError  # noqa: E402


def grid(codes, crs="EPSG:4326", column="KDKEC"):
    """One square per code on a lon/lat grid near West Sulawesi."""
    geoms = [box(118.8 + 0.1 * (i % 9), -3.6 + 0.1 * (i // 9), 118.9 + 0.1 * (i % 9), -3.5 + 0.1 * (i // 9))
             for i in range(len(codes))]
    return gpd.GeoDataFrame({column: list(codes)}, geometry=geoms, crs="EPSG:4326").to_crs(crs)


@pytest.fixture(scope="module")
def kec():
    return regions.kecamatan()


def test_reads_kemendagri_codes_and_converts_crs(tmp_path, kec):
    path = tmp_path / "kecamatan.geojson"
    grid(kec["kec_code_kemendagri"].astype(str), crs="EPSG:3857").to_file(path, driver="GeoJSON")
    b = maps.read_boundaries(path, code="KDKEC", system="kemendagri")
    assert sorted(b["kec_code"]) == sorted(kec["kec_code"].astype(str))
    assert b.crs.equals(maps.MAP_CRS)
    assert b.attrs["notes"] and "EPSG:3857" in b.attrs["notes"][0]


@pytest.mark.parametrize("codes, column, fragment", [
    (lambda k: list(k["kec_code"].astype(str)[:5]) + ["7699999"], "KDKEC", "not kecamatan of the province"),
    (lambda k: list(k["kec_code"].astype(str)[:5]) * 2, "KDKEC", "appear more than once"),
    (lambda k: list(k["kec_code"].astype(str)[:5]), "KODE", "has no column 'KDKEC'"),
], ids=["unknown-code", "duplicate-code", "no-code-column"])
def test_bad_boundary_files_give_clear_errors(tmp_path, kec, codes, column, fragment):
    path = tmp_path / "b.geojson"
    grid(codes(kec), column=column).to_file(path, driver="GeoJSON")
    with pytest.raises(DataValidationError, match=fragment):
        maps.read_boundaries(path, code="KDKEC")


def test_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{not json")
    with pytest.raises(DataValidationError, match="cannot be read as a map"):
        maps.read_boundaries(path)


def test_choropleth_draws_published_and_blank_areas(tmp_path, kec):
    path = tmp_path / "kecamatan.geojson"
    grid(kec["kec_code"].astype(str)).to_file(path, driver="GeoJSON")
    b = maps.read_boundaries(path, code="KDKEC")
    values = pd.DataFrame({"kec_code": kec["kec_code"].astype(str),
                           "shown": np.where(np.arange(len(kec)) % 7 == 0, np.nan, np.linspace(0.02, 0.3, len(kec))),
                           "quality": np.where(np.arange(len(kec)) % 5 == 0, "caution", "reliable")})
    joined = maps.join(b, values)
    fig, ax = plots.choropleth(joined, value="shown", title="P0", note="note", flag="quality",
                               hatch_flags=("caution",))
    # one collection of white (unpublished) polygons, one shaded, one hatched
    assert len(ax.collections) >= 3
    fig.savefig(tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 10_000

"""Kecamatan boundaries for maps: read a boundary file the office provides and check it.

The office's boundary file (GeoJSON, shapefile or GeoPackage, read by geopandas) names its areas
with BPS or Kemendagri codes; both are checked against the region list so that a map never
silently colours the wrong kecamatan. geopandas is the optional extra ``[maps]``; without it, and
without a boundary file, the reports draw a schematic tile map instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from . import regions
from .exceptions import DataValidationError, missing_extra

#: Coordinates the maps are drawn in: longitude/latitude (WGS 84), as BPS and most GeoJSON files.
MAP_CRS = "EPSG:4326"


def read_boundaries(path: str | os.PathLike, *, code: str = "kec_code", system: regions.CodeSystem = "bps"):
    """A GeoDataFrame of kecamatan boundaries with a BPS ``kec_code`` column, checked.

    Parameters
    ----------
    path : path-like
        A GeoJSON, shapefile or GeoPackage of kecamatan polygons.
    code : str
        The column of the file that holds the kecamatan code.
    system : {"bps", "kemendagri"}
        The coding system of that column (see ``welfare_eval/data/regions_kecamatan.csv``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kecamatan, ``kec_code`` in BPS codes, in :data:`MAP_CRS`; ``attrs["notes"]``
        says when the file's CRS was converted.

    Raises
    ------
    DataValidationError
        The file cannot be read, lacks the code column or a CRS, or has codes that are not
        kecamatan of the province or appear twice.
    """
    try:
        import geopandas as gpd
    except ImportError as exc:  # pragma: no cover - the extra is installed where maps are drawn
        raise missing_extra("A map from a boundary file", "geopandas", "maps") from exc
    regions.check_system(system, where="read_boundaries")
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"Boundary file {path} does not exist; give a GeoJSON, shapefile or GeoPackage of "
                                  f"kecamatan polygons, or leave the parameter empty for the schematic map.")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a file the user must fix
        raise DataValidationError(f"Boundary file {path.name} cannot be read as a map ({type(exc).__name__}: "
                                  f"{str(exc)[:200]}); export it again as GeoJSON or a shapefile.") from exc
    if code not in gdf.columns:
        raise DataValidationError(f"Boundary file {path.name} has no column {code!r}; its columns are "
                                  f"{[c for c in gdf.columns if c != 'geometry'][:20]}. Name the code column with "
                                  f"the boundary_code parameter.")
    notes = []
    if gdf.crs is None:
        raise DataValidationError(f"Boundary file {path.name} does not say its coordinate reference system (CRS); "
                                  f"save it with one (e.g. EPSG:4326, longitude/latitude).")
    if not gdf.crs.equals(MAP_CRS):
        notes.append(f"Boundaries converted from {gdf.crs.to_string()} to {MAP_CRS}.")
        gdf = gdf.to_crs(MAP_CRS)
    raw = gdf[code].astype("string").str.strip().str.replace(".", "", regex=False)
    bps = regions.to_bps(raw, level="kec", system=system)
    known = set(regions.kecamatan()["kec_code"].astype(str))
    unknown = raw[bps.isna() | ~bps.isin(known)]
    if len(unknown):
        raise DataValidationError(f"{len(unknown)} codes of column {code!r} in {path.name} are not kecamatan of the "
                                  f"province in the {system} system ({', '.join(unknown.astype(str).head(5))}"
                                  f"{', ...' if len(unknown) > 5 else ''}); check the column and the system "
                                  f"(bps or kemendagri).")
    dup = bps[bps.duplicated()]
    if len(dup):
        raise DataValidationError(f"{dup.nunique()} kecamatan appear more than once in {path.name} "
                                  f"({', '.join(dup.astype(str).unique()[:5])}); dissolve them into one polygon each.")
    out = gdf.assign(kec_code=bps.astype(str).to_numpy())[["kec_code", "geometry"]]
    out.attrs["notes"] = notes
    return out


def join(boundaries, frame: pd.DataFrame, *, code: str = "kec_code"):
    """The boundaries with the columns of ``frame`` (one row per kecamatan) joined by code."""
    f = frame.assign(**{code: frame[code].astype(str)})
    out = boundaries.merge(f, left_on="kec_code", right_on=code, how="left")
    out.attrs["notes"] = boundaries.attrs.get("notes", [])
    return out

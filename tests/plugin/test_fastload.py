"""asciigrid:fastload: parameters, outputs, GDAL-exact values, errors, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr
from plugin_helpers import assert_run, gdal_open, leftovers, run, warnings_feedback

ALG = "asciigrid:fastload"


def gdal_array(path: Path | str) -> tuple[np.ndarray, tuple, float | None, str, int]:
    ds = gdal_open(path)
    band = ds.GetRasterBand(1)
    return (
        band.ReadAsArray(),
        ds.GetGeoTransform(),
        band.GetNoDataValue(),
        ds.GetProjection(),
        band.DataType,
    )


def test_parameters(provider) -> None:
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(ALG)
    params = {p.name(): p for p in algorithm.parameterDefinitions()}
    assert list(params) == [
        "INPUT",
        "CRS",
        "DATA_TYPE",
        "STRICT",
        "BUILD_OVERVIEWS",
        "COMPRESSION",
        "COG",
        "OUTPUT",
    ]
    assert params["INPUT"].type() == "file"
    assert params["CRS"].flags() & params["CRS"].FlagOptional
    assert params["DATA_TYPE"].options()[1:] == ["Int32", "Float32", "Float64"]
    assert params["DATA_TYPE"].defaultValue() == 0
    assert params["STRICT"].defaultValue() is False
    assert params["BUILD_OVERVIEWS"].defaultValue() is True
    assert params["COMPRESSION"].defaultValue() == 0
    assert params["COG"].defaultValue() is False
    assert params["OUTPUT"].type() == "rasterDestination"
    assert [o.name() for o in algorithm.outputDefinitions()] == ["OUTPUT"]


def test_values_equal_gdal_reading_the_asc(provider, tiles: Path, tmp_path: Path) -> None:
    source = sorted(tiles.glob("*.asc"))[1]
    out = tmp_path / "out.tif"
    results = assert_run(ALG, {"INPUT": str(source), "OUTPUT": str(out)})
    assert results["OUTPUT"] == str(out)
    got, ref = gdal_array(out), gdal_array(source)
    np.testing.assert_array_equal(got[0], ref[0])
    assert got[1] == ref[1]  # geotransform, exactly
    assert got[2] == ref[2]  # nodata
    assert got[4] == ref[4]  # data type
    expected = osr.SpatialReference()
    expected.ImportFromWkt(ref[3])
    actual = osr.SpatialReference()
    actual.ImportFromWkt(got[3])
    assert actual.IsSame(expected), "CRS from the .prj"
    assert leftovers(tmp_path) == ["out.tif"]


def test_geotiff_is_tiled_compressed_with_statistics(
    provider, corpus_big_grid: Path, tmp_path: Path
):
    out = tmp_path / "big.tif"
    assert_run(ALG, {"INPUT": str(corpus_big_grid), "OUTPUT": str(out)})
    ds = gdal.Open(str(out))
    band = ds.GetRasterBand(1)
    assert band.GetBlockSize() == [256, 256]
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "ZSTD"  # geotiff.DEFAULT_CODEC
    assert band.GetOverviewCount() >= 3
    assert band.GetNoDataValue() == -9999
    # exact statistics are stored in the file: QGIS styles the layer without a scan
    stored = [float(band.GetMetadataItem(f"STATISTICS_{k}")) for k in ("MINIMUM", "MAXIMUM")]
    data = band.ReadAsArray()
    valid = data[data != -9999]
    assert stored == pytest.approx([float(valid.min()), float(valid.max())], rel=1e-12)
    assert leftovers(tmp_path) == ["big.tif"]  # no .aux.xml, no temporary file


def test_no_overviews_crs_override_and_forced_type(provider, small_grid: Path, tmp_path: Path):
    out = tmp_path / "small.tif"
    assert_run(
        ALG,
        {
            "INPUT": str(small_grid),
            "CRS": "EPSG:3035",
            "DATA_TYPE": 3,
            "BUILD_OVERVIEWS": False,
            "OUTPUT": str(out),
        },
    )
    data, geotransform, nodata, wkt, dtype = gdal_array(out)
    assert dtype == gdal.GDT_Float64
    assert geotransform == (1000.0, 10.0, 0.0, 2030.0, 0.0, -10.0)
    assert nodata == -9999
    np.testing.assert_array_equal(data, [[1.5, 2, 3, 4], [5, -9999, 7, 8.25], [9, 10, 11, 12]])
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    assert srs.GetAuthorityCode(None) == "3035"
    assert gdal.Open(str(out)).GetRasterBand(1).GetOverviewCount() == 0


@pytest.mark.parametrize(("choice", "compression"), [(3, "DEFLATE"), (5, None)])
def test_compression_choice(provider, small_grid: Path, tmp_path: Path, choice, compression):
    out = tmp_path / "small.tif"
    assert_run(ALG, {"INPUT": str(small_grid), "COMPRESSION": choice, "OUTPUT": str(out)})
    assert gdal.Open(str(out)).GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == compression
    np.testing.assert_array_equal(gdal_array(out)[0], gdal_array(small_grid)[0])


def test_cloud_optimized_geotiff_is_valid_by_gdal_rules(
    provider, corpus_big_grid: Path, tmp_path: Path
):
    validate = pytest.importorskip("osgeo_utils.samples.validate_cloud_optimized_geotiff")
    out = tmp_path / "cog.tif"
    assert_run(ALG, {"INPUT": str(corpus_big_grid), "COG": True, "OUTPUT": str(out)})
    errors, warnings, _ = validate.validate(str(out), full_check=True)
    assert (errors, warnings) == ([], [])
    ds = gdal.Open(str(out))
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetRasterBand(1).GetOverviewCount() >= 3
    np.testing.assert_array_equal(gdal_array(out)[0], gdal_array(corpus_big_grid)[0])
    assert leftovers(tmp_path) == ["cog.tif"]


def test_int32_by_gdal_rule_and_gz(provider, tmp_path: Path) -> None:
    import gzip

    source = tmp_path / "ints.asc.gz"
    source.write_bytes(
        gzip.compress(b"ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n3 4\n")
    )
    out = tmp_path / "ints.tif"
    assert_run(ALG, {"INPUT": str(source), "OUTPUT": str(out)})
    data, _, nodata, wkt, dtype = gdal_array(out)
    assert dtype == gdal.GDT_Int32
    assert nodata is None and wkt == ""
    np.testing.assert_array_equal(data, [[1, 2], [3, 4]])


def test_parse_error_names_file_line_column_and_writes_nothing(provider, tmp_path: Path):
    from qgis.core import QgsProcessingException

    bad = tmp_path / "bad.asc"
    bad.write_text("ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n4 x5 6\n")
    out = tmp_path / "out" / "bad.tif"
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"INPUT": str(bad), "OUTPUT": str(out)})
    assert f"{bad}:7:3:" in str(err.value)
    assert not out.parent.exists() or leftovers(out.parent) == []


TRAILING = b"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n7 8\nPROJECTION GEOGRAPHIC\n"


def test_text_after_the_grid_is_read_with_a_warning_in_the_log(provider, tmp_path: Path):
    source = tmp_path / "trailing.asc"
    source.write_bytes(TRAILING)
    feedback, warned = warnings_feedback()
    out = tmp_path / "trailing.tif"
    assert_run(ALG, {"INPUT": str(source), "OUTPUT": str(out)}, feedback)
    np.testing.assert_array_equal(gdal_array(out)[0], [[7, 8]])
    assert [w for w in warned if w.startswith(f"{source}:7:")], warned


def test_strict_refuses_text_after_the_grid(provider, tmp_path: Path):
    from qgis.core import QgsProcessingException

    source = tmp_path / "trailing.asc"
    source.write_bytes(TRAILING)
    out = tmp_path / "out" / "trailing.tif"
    with pytest.raises(QgsProcessingException) as err:
        run(ALG, {"INPUT": str(source), "STRICT": True, "OUTPUT": str(out)})
    assert f"{source}:7:1:" in str(err.value)
    assert not out.parent.exists() or leftovers(out.parent) == []


def test_cancel_stops_quickly_and_leaves_no_file(provider, corpus_big_grid, tmp_path, cancel_at):
    from qgis.core import QgsProcessingException

    out = tmp_path / "cancelled.tif"
    canceller = cancel_at(5.0)
    with pytest.raises(QgsProcessingException, match="Cancel"):
        run(ALG, {"INPUT": str(corpus_big_grid), "OUTPUT": str(out)}, canceller.feedback)
    # Each engine thread finishes at most the 1 MiB window it is in; a run that went on would
    # read the rest of the grid (twice) and write the GeoTIFF.
    assert canceller.io_since_cancel() < corpus_big_grid.stat().st_size / 4
    assert leftovers(tmp_path) == []

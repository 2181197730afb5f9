"""Static files: served by the server itself, collected copies first, app files when not collected."""

from __future__ import annotations

from pathlib import Path

from endrpi_project.http.static import StaticFilesMiddleware


def served_from(middleware: StaticFilesMiddleware, url: str) -> set[Path]:
    """The files WhiteNoise may answer ``url`` with (the file and its compressed copies)."""
    return {Path(alternative[1]) for alternative in middleware.files[url].alternatives}


def test_collected_files_are_served_before_the_apps_copies(tmp_path, settings):
    collected = tmp_path / "static" / "endrpi" / "endrpi.css"
    collected.parent.mkdir(parents=True)
    collected.write_text("body {}")
    collected.with_name("endrpi.css.gz").write_bytes(b"")
    settings.STATIC_ROOT = tmp_path / "static"
    middleware = StaticFilesMiddleware(lambda request: None)
    assert served_from(middleware, "/static/endrpi/endrpi.css") == {
        collected,
        collected.with_name("endrpi.css.gz"),
    }
    # ...and anything not collected yet still comes from its app.
    (admin_css,) = served_from(middleware, "/static/admin/css/base.css")
    assert admin_css.parts[-4:] == ("static", "admin", "css", "base.css")
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in middleware.files

"""The landing page explains the studio and links every page that app.py lists."""

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def test_home_links_every_page() -> None:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert at.title[0].value == "🎵 Genre Studio"
    assert "ten genres" in at.markdown[0].value
    linked = {link.proto.page for link in at.get("page_link")}
    app_source = (REPO_ROOT / "app.py").read_text()
    for page in ("classify", "library", "training", "generate", "mood"):
        assert f"app_pages/{page}.py" in app_source
        assert any(page in target for target in linked), linked

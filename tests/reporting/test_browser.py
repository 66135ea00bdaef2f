"""Open every generated page in headless Chromium: nothing loaded from the network, no console
errors, every image decoded. Skips only when Chromium is absent outside CI."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from metrics_lib.reporting.runner import run_reports

pytestmark = pytest.mark.integration  # drives headless Chromium

PARAMETERS = 'period: str = "2025-01"\ndata: str = ""\ntargets: str = ""\nsegment: str = ""\nas_of: str = ""'


def _notebook(path, *sources):
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Browser check"),
            new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
            *[new_code_cell(s) for s in sources],
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def reports(chromium, tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    nbs, data = root / "notebooks", root / "data"
    nbs.mkdir()
    data.mkdir()
    _notebook(
        nbs / "00_scorecard.ipynb",
        "print('period', period)",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
        "ax.bar(['a', 'b'], [3, 5])\nplt.show()",
    )
    _notebook(nbs / "01_retention.ipynb", "raise RuntimeError('planted')")
    (data / "customers.csv").write_text("customer_id,signup_date\nc1,2024-01-05\n")
    (data / "orders.csv").write_text("order_id,customer_id,order_date,revenue\no1,c1,2025-03-10,100\n")
    out = root / "reports"
    run_reports("2025-03", data=data, notebooks_dir=nbs, out=out, progress=None)
    return out


def test_every_page_loads_offline_and_cleanly(chromium, reports):
    pages = [reports / "index.html", *sorted((reports / "2025-03").glob("*.html"))]
    assert [p.name for p in pages] == ["index.html", "index.html", "retention.html", "scorecard.html"]
    images = 0
    for page in pages:
        shot = reports / "index.png" if page == reports / "index.html" else None
        seen = chromium.open(page, screenshot=shot)
        assert seen.requests and seen.requests[0] == page.resolve().as_uri()
        assert seen.console_errors == [], (page, seen.console_errors, chromium.log_text()[-2000:])
        assert seen.external_requests == [], page
        assert seen.remote_resources == [], page
        assert seen.failed_requests == [], page
        assert seen.broken_images == [], page
        assert all(img["src"].startswith("data:image/") for img in seen.images), page
        images += len(seen.images)
    assert images == 1  # the scorecard's bar chart
    png = (reports / "index.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000

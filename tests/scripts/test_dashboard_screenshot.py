"""scripts/dashboard_screenshot.py's judgement of a PNG and its choice of URL (no browser, no
stack)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageDraw

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "dashboard_screenshot.py"


def _module() -> ModuleType:
    if "dashboard_screenshot" not in sys.modules:
        spec = importlib.util.spec_from_file_location("dashboard_screenshot", _PATH)
        assert spec is not None, _PATH
        assert spec.loader is not None, _PATH
        module = importlib.util.module_from_spec(spec)
        sys.modules["dashboard_screenshot"] = module
        spec.loader.exec_module(module)
    return sys.modules["dashboard_screenshot"]


def _page(series: int) -> Image.Image:
    """A white page with grey text bars and ``series`` coloured polylines, like the console's."""
    image = Image.new("RGB", (1400, 1200), "white")
    draw = ImageDraw.Draw(image)
    for y in range(20, 1200, 60):
        draw.rectangle((20, y, 600, y + 12), fill=(40, 40, 40))
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]
    for index in range(series):
        y = 100 + 50 * index
        points = [(x, y + (x // 7) % 30) for x in range(50, 1350, 10)]
        draw.line(points, fill=colours[index % len(colours)], width=3)
    return image


def test_grey_text_is_not_counted_as_drawn() -> None:
    assert _module().coloured_pixels(_page(0)) == 0


def test_coloured_series_are_counted() -> None:
    assert _module().coloured_pixels(_page(4)) >= _module().MIN_COLOURED_PIXELS


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (Image.new("RGB", (800, 600), "white"), "blank"),
        (_page(0), "no graphs drawn"),
        (_page(1).crop((0, 0, 300, 300)), "no graphs drawn"),
    ],
)
def test_a_page_without_graphs_is_a_problem(
    image: Image.Image, problem: str, tmp_path: Path
) -> None:
    path = tmp_path / "shot.png"
    image.save(path)
    found = _module().screenshot_problem(path)
    assert found is not None
    assert problem in found


def test_a_page_with_graphs_passes(tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    _page(6).save(path)
    assert _module().screenshot_problem(path) is None


def test_the_url_is_the_published_prometheus_console() -> None:
    assert _module().dashboard_url("dev") == "http://127.0.0.1:9090/consoles/ha-stack.html"
    with pytest.raises(ValueError, match="does not publish Prometheus"):
        _module().dashboard_url("prod")

"""Screenshot the dashboard a deployed stack's Prometheus serves, and check it shows graphs.

Loads http://<publishAddress>:<prometheusHostPort>/consoles/ha-stack.html in headless Chromium
(Debian's ``chromium``, installed by scripts/install), lets the page's scripts draw the graphs
from the range API, saves a PNG, then checks the PNG is not blank: the console libraries draw
every series in a colour, and the rest of the page (text, axes, navbar) is grey, so a page whose
graphs got no data has almost no coloured pixels.

Usage: python scripts/dashboard_screenshot.py <stack> OUT.png [--timeout SECONDS]
Exit status 1 when the stack does not publish Prometheus, the page does not answer, Chromium
fails, or the PNG shows no drawn graphs; the message says which.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Final

from PIL import Image

from stacks.model import stack_settings
from stacks.model.conf.dashboard_console import CONSOLE_FILE

__all__ = ["MIN_COLOURED_PIXELS", "coloured_pixels", "dashboard_url", "main", "screenshot_problem"]

# A line of one series across one graph is ~400 px; ask for far fewer than the page's 40-odd
# graphs draw, far more than the navbar's links and the time controls hold.
MIN_COLOURED_PIXELS: Final = 5000
_SATURATION: Final = 60  # max - min channel: grey text and axes stay below, series colours above
WINDOW: Final = "1400,4200"


def dashboard_url(stack: str) -> str:
    """The console page on the host; ValueError when the stack does not publish Prometheus."""
    settings = stack_settings(stack)
    publish = settings.publish
    if "prometheus" not in publish.services:
        raise ValueError(
            f"stack {stack} does not publish Prometheus (ha-stack:publish has no prometheus); "
            "the dashboard is at /consoles/ha-stack.html on its Prometheus inside the network"
        )
    return f"http://{publish.address}:{publish.prometheus_port}/consoles/{CONSOLE_FILE}"


def coloured_pixels(image: Image.Image) -> int:
    """Pixels whose channels differ by more than _SATURATION: drawn series, not grey page."""
    histogram = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    drawn = 0
    for count, colour in histogram:
        assert isinstance(colour, tuple)  # an RGB image's colours are (r, g, b)
        if max(colour) - min(colour) > _SATURATION:
            drawn += count
    return drawn


def screenshot_problem(path: Path) -> str | None:
    """Why the PNG at ``path`` does not show a populated dashboard, or None when it does."""
    with Image.open(path) as image:
        colours = len(image.convert("RGB").getcolors(maxcolors=1 << 24) or [])
        drawn = coloured_pixels(image)
    if colours <= 1:
        return f"{path}: blank ({colours} distinct colours)"
    if drawn < MIN_COLOURED_PIXELS:
        return (
            f"{path}: no graphs drawn ({drawn} coloured pixels, expected >= {MIN_COLOURED_PIXELS})"
        )
    return None


def _wait_for_page(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 (http on the host)
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{url} did not answer within {timeout:.0f} s: {error}"
                ) from None
        time.sleep(1)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("no chromium on the PATH: scripts/install installs Debian's chromium")


def take(url: str, out: Path, timeout: float) -> None:
    """Load ``url`` in headless Chromium and save the PNG to ``out``; RuntimeError on failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ha-stack-chromium-") as profile:
        argv = [
            _chromium(),
            "--headless",
            # CI runs as root, where Chromium refuses its sandbox.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW}",
            # Virtual time runs until the page's requests and timers settle (graphs drawn).
            "--virtual-time-budget=20000",
            f"--screenshot={out}",
            url,
        ]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if run.returncode != 0 or not out.exists():
        raise RuntimeError(f"chromium exited {run.returncode}: {run.stderr.strip()[-2000:]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("stack")
    parser.add_argument("out", type=Path)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    try:
        url = dashboard_url(args.stack)
        _wait_for_page(url, args.timeout)
        take(url, args.out, args.timeout)
    except (ValueError, TimeoutError, FileNotFoundError, RuntimeError) as error:
        print(f"dashboard-screenshot: {error}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired:
        print(f"dashboard-screenshot: chromium took over {args.timeout:.0f} s", file=sys.stderr)
        return 1
    problem = screenshot_problem(args.out)
    if problem:
        print(f"dashboard-screenshot: {problem}", file=sys.stderr)
        return 1
    with Image.open(args.out) as image:
        size = f"{image.width}x{image.height}"
    print(f"dashboard-screenshot: {url} -> {args.out} ({size}, graphs drawn)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

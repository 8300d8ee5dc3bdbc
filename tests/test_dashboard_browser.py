"""The dashboard in a real browser: Debian's /usr/bin/chromium, headless, driven by playwright.

Starts `streamlit run dashboards/app.py` on a free loopback port, opens every page in English and in
Korean, checks each rendered its heading and its main element (the map canvas or a table) with no
traceback, error box or missing translation, prints the time to first render, and saves screenshots
under test-artifacts/. The server is always stopped. Without /usr/bin/chromium the test is skipped,
or fails under CI (run .ci/install-browser first).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_MARK = "⟦"  # what dashboards/ui/i18n.py shows for a missing key

# (URL path from st.navigation, CSS selector of the page's main element, heading in en / ko)
DECK = "[data-testid='stDeckGlJsonChart'] canvas"
TABLE = "[data-testid='stDataFrame']"
CHART = "[data-testid='stVegaLiteChart']"
PAGES = [
    ("", DECK, "Catalog", "카탈로그"),
    ("plan", DECK, "Plan", "배치 계획"),
    ("compare", TABLE, "Compare strategies", "전략 비교"),
    ("whatif", CHART, "What if...", "장애 가정"),
    ("learn", TABLE, "Learn", "학습"),
]


def _require_browser() -> None:
    why = None
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing: run .ci/install-browser to install Debian's chromium"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "the playwright package is missing: pip install '.[test]'"
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _wait_until_up(
    url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit did not answer within {timeout:.0f} s:\n{_tail(log)}")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Path]]:
    _require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "streamlit-server.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(url, proc, log)
            yield url, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _rendered(page, main: str, heading: str) -> None:  # noqa: ANN001 - playwright Page
    """Wait for the page's heading and for its main element (not a stale one of the page before)."""
    page.get_by_role("heading", level=1, name=heading).wait_for(timeout=90_000)
    page.locator(f"[data-stale='false'] {main}").first.wait_for(state="visible", timeout=90_000)


def _settle(page) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the script run has finished (the app says so on its root element), so that
    the page is judged and photographed complete."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=90_000
    )
    page.wait_for_timeout(800)


def _problems(page, where: str) -> list[str]:  # noqa: ANN001 - playwright Page
    found = []
    text = page.locator("[data-testid='stMain']").inner_text()
    if page.locator("[data-testid='stException']").count():
        found.append(f"{where}: an exception box is shown")
    if "Traceback" in text:
        found.append(f"{where}: a traceback is shown")
    errors = page.locator("[data-testid='stAlertContentError']")
    if errors.count():
        found.append(f"{where}: an error box is shown: {errors.first.inner_text()}")
    if MISSING_MARK in text:
        found.append(f"{where}: a translation is missing")
    # the frame of app.py: every page in the menu and the language switch in the sidebar
    links = page.locator("[data-testid='stSidebarNav'] a").count()
    if links != len(PAGES):
        found.append(f"{where}: the menu lists {links} pages instead of {len(PAGES)}")
    if "English" not in page.locator("[data-testid='stSidebar']").inner_text():
        found.append(f"{where}: the language switch is missing")
    return found


def _screenshot(page, path: Path) -> None:  # noqa: ANN001 - playwright Page
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it."""
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stMain"] *\')].slice(0, 50).map(e => e.scrollHeight))'
    )
    size = page.viewport_size or {"width": 1440, "height": 1000}
    page.set_viewport_size(
        {"width": size["width"], "height": min(max(int(height) + 40, 1000), 12000)}
    )
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def test_every_page_renders_in_both_languages(server: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, log = server
    loads: list[tuple[str, str, float]] = []
    clicks: list[tuple[str, float]] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            # every page by its URL, as a fresh browser session: English first (nothing cached
            # yet), then Korean. A deep link comes first, before any session has seen the home
            # page, as after a server restart.
            for path, main, en, ko in PAGES[1:] + PAGES[:1]:
                name = path or "catalog"
                for lang, heading in (("en", en), ("ko", ko)):
                    start = time.perf_counter()
                    page.goto(f"{url}/{path}?lang={lang}", wait_until="domcontentloaded")
                    _rendered(page, main, heading)
                    loads.append((name, lang, time.perf_counter() - start))
                    _settle(page)
                    problems += _problems(page, f"{name}/{lang}")
                    _screenshot(page, ARTIFACTS / f"dashboard-{name}-{lang}.png")
            # then through the navigation menu, as a user moves between pages (data cached)
            for i, (path, main, _en, ko) in enumerate(PAGES):
                start = time.perf_counter()
                page.locator("[data-testid='stSidebarNav'] a").nth(i).click()
                _rendered(page, main, ko)
                clicks.append((path or "catalog", time.perf_counter() - start))
                _settle(page)
                problems += _problems(page, f"{path or 'catalog'}/ko via the menu")
        finally:
            browser.close()
    # Render times are printed for the reader, never asserted: on a busy machine they say nothing
    # about the dashboard (speed targets live in benchmarks/).
    print("\ntime to first render, loading the URL in a new session (s):")
    for name, lang, seconds in loads:
        print(f"  {name:8s} {lang}  {seconds:6.2f}")
    print("time to first render, following the navigation menu, data cached (s):")
    for name, seconds in clicks:
        print(f"  {name:8s}     {seconds:6.2f}")
    assert not problems, "\n".join(problems)
    assert "Traceback" not in log.read_text(errors="replace"), (
        f"the server logged an error; see {log}"
    )

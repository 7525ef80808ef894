"""The operator's page in a real browser (Debian's headless Chromium through chromedriver and
Selenium, installed by scripts/setup.sh) while the simulated scanner publishes: the live image
changes, the scan appears in the list when it ends and downloads byte for byte, and the page's
counters equal /metrics. A screenshot mid-scan is left in the test's output (the path is
printed); MAGPIE_UPDATE_SCREENSHOT=1 also copies it to docs/console.png."""
import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from support import MAGPIE
from test_daemon import DaemonTestCase, publish, wait_for

OUTPUT = os.path.abspath(os.environ.get("MAGPIE_TEST_OUTPUT", ".build/test-output"))


class ConsoleInBrowser(DaemonTestCase):

    def browser(self, downloads):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1500"):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        self.addCleanup(driver.quit)
        return driver

    def test_page_shows_the_scan_live_and_lists_it(self):
        daemon = self.daemon(socket_kind="pull", bind=True, pipeline='catch_up_seconds = "off"\n')
        downloads = tempfile.mkdtemp(prefix="magpie-downloads-", dir=self.dir)
        driver = self.browser(downloads)
        # A first, short scan, so that the list has a file (with its thumbnail) while the second one streams.
        self.assertEqual(publish(daemon.endpoint, "--preset", "openmpi-2d", "--phantom", "dots", "--frames", "190", "--background-frames", "10",
                                 "--rate", "max", "--snr", "30").returncode, 0)
        wait_for(daemon.files, 60, "the first scan's file")
        first = os.path.basename(daemon.files()[0])
        driver.get(f"http://127.0.0.1:{daemon.console_port}/")
        wait_for(lambda: driver.find_element(By.ID, "conn").text == "live", 30, "the page to connect")
        thumbnail = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f'tr[data-scan="{first}"] img.thumb'), 30, "the first scan's thumbnail")[0]
        wait_for(lambda: driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", thumbnail), 30, "the thumbnail to load")

        # 1500 frames at 300 a second: about 5 s of scan, some 50 live updates at the default rate.
        publisher = subprocess.Popen([MAGPIE, "publish", "--socket", "push", "--endpoint", daemon.endpoint, "--connect", "--warmup", "0.5",
                                      "--preset", "openmpi-2d", "--phantom", "shapes", "--frames", "1480", "--background-frames", "20",
                                      "--rate", "300", "--snr", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: publisher.poll() is None and publisher.kill())
        captions = set()
        screenshot = os.path.join(OUTPUT, "console.png")
        os.makedirs(OUTPUT, exist_ok=True)
        deadline = time.time() + 60
        while publisher.poll() is None and time.time() < deadline:
            captions.add(driver.find_element(By.ID, "image-caption").text)
            if len(captions) == 6:
                driver.save_screenshot(screenshot)
            time.sleep(0.1)
        self.assertEqual(publisher.wait(timeout=60), 0, publisher.stderr.read())
        shown = driver.execute_script("return window.magpie.imagesShown")
        changes = len([c for c in captions if c.startswith("scan ")])
        print(f"\n  the page drew {shown} images; its caption showed {changes} different frames while the scan ran; screenshot {screenshot}")
        self.assertGreaterEqual(changes, 5)
        self.assertTrue(os.path.exists(screenshot))

        # The scan appears in the list when its file is written, and downloads byte for byte.
        wait_for(lambda: len(daemon.files()) == 2, 60, "the scan's file")
        name = next(os.path.basename(f) for f in daemon.files() if os.path.basename(f) != first)
        row = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f'tr[data-scan="{name}"]'), 30, "the scan in the page's list")[0]
        self.assertIn("complete", row.text)
        row.find_element(By.LINK_TEXT, "download").click()
        downloaded = os.path.join(downloads, name)
        size = os.path.getsize(os.path.join(daemon.out, name))
        wait_for(lambda: os.path.exists(downloaded) and os.path.getsize(downloaded) == size
                 and not glob.glob(os.path.join(downloads, "*.crdownload")), 60, "the download")
        with open(downloaded, "rb") as a, open(os.path.join(daemon.out, name), "rb") as b:
            self.assertEqual(hashlib.sha256(a.read()).hexdigest(), hashlib.sha256(b.read()).hexdigest())

        # After the scan the page's counters equal /metrics.
        time.sleep(1.5)   # the page's status arrives twice a second
        page = driver.execute_script(   # in one go: the table is redrawn with each status
            'return Object.fromEntries([...document.querySelectorAll("#counters tr")].map(r => [r.dataset.counter, Number(r.cells[1].textContent)]))')
        metrics = daemon.metrics()
        self.assertEqual(page["received"], 1700)
        for counter, value in page.items():
            self.assertEqual(value, metrics[counter], counter)
        self.assertFalse(driver.find_element(By.ID, "warning").is_displayed() and page["lost"] == 0 and page["skipped"] == 0)
        if os.environ.get("MAGPIE_UPDATE_SCREENSHOT") == "1":
            shutil.copy(screenshot, "docs/console.png")

"""Screenshot of the painter (docs/demo/painter.png) taken by headless Chromium after a synthesis and a part edit.

Serves ``demo/ipose_painter.py`` (the ``make demo`` model by default) on a free local port, loads a
validation scene, synthesizes, turns the car wheels into chassis in the supports (re-synthesis with
the same noise) and saves the page, scaled to ``--scale``. Needs Debian's ``chromium`` and
``chromium-driver`` and selenium (no browser download).

Example::

    python tools/analysis/painter_screenshot.py --out docs/demo/painter.png            # after `make demo`
    python tools/analysis/painter_screenshot.py --painter-args CONFIG CHECKPOINT --out shot.png
"""
import argparse
import io
import os.path as osp
import socket
import subprocess
import sys
import time

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TIMEOUT = 300


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='screenshot of the iPOSE painter')
    parser.add_argument('--out', default='docs/demo/painter.png', help='PNG to write')
    parser.add_argument('--scene', type=int, default=0, help='validation scene shown')
    parser.add_argument('--width', type=int, default=1300, help='browser window width (CSS pixels)')
    parser.add_argument('--max-height', type=int, default=1250, help='page height kept (CSS pixels)')
    parser.add_argument('--scale', type=float, default=0.75, help='resize factor of the saved picture')
    parser.add_argument('--chromium', default=None, help='browser executable (default: chromium on the PATH)')
    parser.add_argument('--chromedriver', default=None, help='driver executable (default: chromedriver on the PATH)')
    parser.add_argument(
        '--painter-args',
        nargs=argparse.REMAINDER,
        default=[],
        help='arguments of demo/ipose_painter.py (default: none, the `make demo` model)')
    return parser.parse_args(argv)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def main(argv=None) -> str:
    args = parse_args(argv)
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable,
         osp.join(REPO, 'demo', 'ipose_painter.py'), *args.painter_args, '--port',
         str(port)])
    options = webdriver.ChromeOptions()
    import shutil
    chromium = args.chromium or shutil.which('chromium') or shutil.which('chromium-browser')
    chromedriver = args.chromedriver or shutil.which('chromedriver')
    if not chromium or not chromedriver:
        raise SystemExit('painter screenshot: chromium and chromedriver are needed (Debian: apt install chromium '
                         'chromium-driver), or pass --chromium / --chromedriver')
    options.binary_location = chromium
    for flag in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--hide-scrollbars',
                 f'--window-size={args.width},1500'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.2)
    message = lambda d: d.execute_script(  # noqa: E731
        'const m = document.getElementById("ipaint-message"); return m ? m.innerText : "";')

    def click(element_id):
        element = driver.find_element(By.ID, element_id)
        driver.execute_script('arguments[0].scrollIntoView({block: "center"})', element)
        element.click()

    try:
        deadline = time.time() + TIMEOUT
        while True:  # the server loads the model first
            if server.poll() is not None:
                raise SystemExit(f'the painter exited with code {server.returncode}')
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit('the painter did not start')
                time.sleep(0.5)
        driver.get(f'http://127.0.0.1:{port}')
        wait.until(lambda d: d.execute_script('return !!(window.ipaint && window.ipaint.ready())'))
        for button in driver.find_elements(By.CSS_SELECTOR, 'button.label-wrap'):
            if 'Start from' in button.text:
                button.click()
        wait.until(lambda d: d.find_element(By.ID, 'ipaint-load-scene').is_displayed())
        scene = driver.find_element(By.CSS_SELECTOR, '#ipaint-scene input')
        scene.clear()
        scene.send_keys(str(args.scene))
        click('ipaint-load-scene')
        wait.until(lambda d: 'Loaded' in message(d) or 'Error' in message(d))
        click('ipaint-synthesize')
        wait.until(lambda d: 'Synthesized' in message(d) or 'Error' in message(d))
        click('ipaint-part-edit')
        wait.until(lambda d: 're-synthesized' in message(d) or 'Error' in message(d))
        print(message(driver))
        driver.execute_script('window.scrollTo(0, 0)')
        height = driver.execute_script('return document.body.scrollHeight')
        driver.set_window_size(args.width, min(height, args.max_height))
        time.sleep(0.5)  # let the resize settle before the capture (nothing is awaited here)
        image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert('RGB')
        if args.scale != 1:
            image = image.resize((round(image.width * args.scale), round(image.height * args.scale)), Image.LANCZOS)
        image.save(args.out, optimize=True)
        print(f'wrote {args.out} ({image.width}x{image.height})')
        return args.out
    finally:
        driver.quit()
        server.terminate()
        server.wait(30)


if __name__ == '__main__':
    main()

"""The painter end to end in headless Chromium: paint with the mouse, synthesize, redraw one object, edit parts.

Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``) are driven by
selenium; nothing is downloaded. The model is the toy iPOSE config with random weights at 128x256.
"""
import io
import os
import shutil
import socket
import urllib.request

import numpy as np
import pytest
from noise_halo import receptive_halo
from painter_model import toy_session
from PIL import Image

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
HEIGHT, WIDTH = 128, 256
TIMEOUT = 60  # generous explicit waits; the whole test takes well under that on 2 cores
SKY, ROAD, CAR = 1, 3, 7
SMALL_CAR = (92, 204)  # (row, col) of the car to redraw: no row/column multiple of 8 within its radius 3
BIG_CAR_ROW, BIG_CAR_COLS = 92, (150, 199)  # touches the small car: two touching cars, two objects

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason='headless browser test: needs Debian chromium + chromedriver (apt-get install chromium chromium-driver; '
    '.ci/run installs them)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    pytest.importorskip('gradio')
    from mmipose.painter.app import build_app
    session = toy_session(str(tmp_path_factory.mktemp('painter')), size=(HEIGHT, WIDTH))
    assert session.load_error is None, session.load_error
    app = build_app(session)
    port = _free_port()
    app.queue().launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True, show_api=False, quiet=True)
    yield f'http://127.0.0.1:{port}'
    app.close()


@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                 '--window-size=1400,2400'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _wait(driver, condition, what: str):
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        # gradio re-renders components after updates: a condition that met a replaced element tries again
        return WebDriverWait(
            driver, TIMEOUT, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException, )).until(condition)
    except TimeoutException:
        raise AssertionError(f'timed out after {TIMEOUT} s waiting for {what}; the page says: {_message(driver)!r}')


def _click(driver, element_id: str):
    from selenium.webdriver.common.by import By
    element = driver.find_element(By.ID, element_id)
    driver.execute_script('arguments[0].scrollIntoView({block: "center"})', element)
    element.click()


def _image_of(driver, element_id: str) -> np.ndarray:
    """The picture a gradio Image shows, fetched from its URL (lossless PNG)."""
    from selenium.webdriver.common.by import By
    src = driver.find_element(By.CSS_SELECTOR, f'#{element_id} img').get_attribute('src')
    with urllib.request.urlopen(src, timeout=TIMEOUT) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())).convert('RGB'))


def _src(driver, element_id: str):
    found = driver.execute_script(f'const i = document.querySelector("#{element_id} img"); return i ? i.src : null;')
    return found


def _message(driver) -> str:
    return driver.execute_script('const m = document.getElementById("ipaint-message"); return m ? m.innerText : "";')


class Painter:
    """Mouse strokes on the label canvas in model pixels (row, col)."""

    def __init__(self, driver):
        from selenium.webdriver.common.by import By
        self.driver = driver
        self.canvas = driver.find_element(By.ID, 'ipaint-canvas')
        driver.execute_script('arguments[0].scrollIntoView({block: "center"})', self.canvas)

    def _offset(self, row: int, col: int):
        # selenium offsets are from the element's centre, in CSS pixels
        rect = self.canvas.rect
        return (int((col + 0.5) * rect['width'] / WIDTH - rect['width'] / 2),
                int((row + 0.5) * rect['height'] / HEIGHT - rect['height'] / 2))

    def stroke(self, points):
        from selenium.webdriver.common.action_chains import ActionChains
        actions = ActionChains(self.driver, duration=0)
        actions.move_to_element_with_offset(self.canvas, *self._offset(*points[0])).click_and_hold()
        for point in points[1:]:
            actions.move_to_element_with_offset(self.canvas, *self._offset(*point))
        actions.release().perform()

    def use(self, class_id: int = None, tool: str = 'brush', radius: int = None):
        if class_id is not None:
            _click(self.driver, f'ipaint-class-{class_id}')
        _click(self.driver, f'ipaint-tool-{tool}')
        if radius is not None:
            self.driver.execute_script(
                'const s = document.getElementById("ipaint-size"); s.value = arguments[0];'
                's.dispatchEvent(new Event("input"));', radius)


def _choose(driver, element_id: str, text: str):
    """Pick an option of a gradio Dropdown by its visible text.

    Every step looks the elements up afresh inside the wait: gradio may replace the input or the option list
    between two steps (a stale element), and the step is then simply tried again.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def box(d):
        return d.find_element(By.CSS_SELECTOR, f'#{element_id} input')

    def pick(d) -> bool:
        if box(d).get_attribute('value') == text:
            return True
        options = [o for o in d.find_elements(By.CSS_SELECTOR, 'ul.options li') if o.text.strip() == text]
        if options:
            options[0].click()
        else:  # open the list
            d.execute_script('arguments[0].scrollIntoView({block: "center"})', box(d))
            box(d).click()
        return box(d).get_attribute('value') == text

    _wait(driver, pick, f'{element_id} = {text!r}')
    _wait(driver, lambda d: box(d).send_keys(Keys.ESCAPE) or True, f'{element_id} closed')


def test_paint_synthesize_redraw_and_edit_parts(server, browser):
    driver = browser
    driver.get(server)
    _wait(driver, lambda d: d.execute_script('return !!(window.ipaint && window.ipaint.ready())'), 'the canvas')
    painter = Painter(driver)

    # sky everywhere (fill), a road over the lower half (wide strokes), two touching cars on the road
    painter.use(SKY, 'fill')
    painter.stroke([(10, 10)])
    painter.use(ROAD, 'brush', radius=12)
    for row in (72, 90, 108, 124):
        painter.stroke([(row, 0), (row, WIDTH // 2), (row, WIDTH - 1)])
    painter.use(CAR, 'brush', radius=3)
    painter.stroke([(BIG_CAR_ROW, BIG_CAR_COLS[0]), (BIG_CAR_ROW, BIG_CAR_COLS[1])])
    painter.stroke([SMALL_CAR])  # a new object (new object per stroke is on), now the selected one
    assert driver.execute_script('return window.ipaint.selected()') == CAR * 1000 + 2

    _click(driver, 'ipaint-synthesize')
    _wait(driver, lambda d: 'Synthesized' in _message(d), 'the synthesis')
    message = _message(driver)
    assert '2 objects' in message and 'Error' not in message, message
    image = _image_of(driver, 'ipaint-image')
    assert image.shape == (HEIGHT, WIDTH, 3)
    label = _image_of(driver, 'ipaint-label')
    car_colour = np.array([0, 0, 142])  # the toy palette's car
    cars = (label == car_colour).all(-1)
    small = np.zeros_like(cars)
    small[SMALL_CAR[0] - 3:SMALL_CAR[0] + 4, SMALL_CAR[1] - 3:SMALL_CAR[1] + 4] = True
    small &= cars
    big = cars & ~small
    road = (label == np.array([128, 64, 128])).all(-1)
    road_near = road.copy()
    road_near[:, :BIG_CAR_COLS[0] - 30] = False  # the road around the cars
    for car in (small, big):
        assert car.sum() > 10
        # a car is drawn differently from the road around it
        assert np.abs(image[car].mean(0) - image[road_near].mean(0)).max() > 5

    # redraw the noise of the selected (small) car only
    _click(driver, 'ipaint-redraw')
    _wait(driver, lambda d: 'Redrew' in _message(d), 'the object redraw')
    assert 'car #2' in _message(driver), _message(driver)
    redrawn = _image_of(driver, 'ipaint-image')
    diff = np.abs(redrawn.astype(int) - image.astype(int)).max(-1)
    assert (diff[small] > 0).mean() > 0.3
    rows = range(SMALL_CAR[0] - 3, SMALL_CAR[0] + 4)
    cols = range(SMALL_CAR[1] - 3, SMALL_CAR[1] + 4)
    halo = receptive_halo(rows, cols)
    assert halo < cols.start
    np.testing.assert_array_equal(diff[:, :cols.start - halo], 0)  # far outside the car: unchanged

    # part editing: every part of the car supports becomes part 1, the part overlay changes
    parts_before = _image_of(driver, 'ipaint-parts')
    parts_src = _src(driver, 'ipaint-parts')
    _choose(driver, 'ipaint-from-part', 'every part')
    _choose(driver, 'ipaint-to-part', '1: torso / trunk / window')
    _click(driver, 'ipaint-part-edit')
    _wait(driver, lambda d: 're-synthesized' in _message(d) and _src(d, 'ipaint-parts') != parts_src, 'the part edit')
    assert 'Error' not in _message(driver), _message(driver)
    parts_after = _image_of(driver, 'ipaint-parts')
    assert (np.abs(parts_after.astype(int) - parts_before.astype(int)).max(-1) > 0).any()
    assert _image_of(driver, 'ipaint-before-parts').shape == _image_of(driver, 'ipaint-after-parts').shape

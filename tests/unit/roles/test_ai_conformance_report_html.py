"""The ai_conformance report page in headless Chromium: the DOM it builds shows every requirement of the 1.34 checklist
with its status, and a screenshot is taken. Chromium is Debian's package, installed by `make bootstrap`."""

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from ansible_collections.aiplatform.aks.plugins.filter.ai_conformance import ai_conformance_files
from tests.unit.plugins.filter.conformance_result import METADATA, checklist, result

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-extensions']


class Rows(HTMLParser):
    """The requirement rows of the rendered DOM: data-requirement, data-status and the status badge's text."""

    def __init__(self):
        super().__init__()
        self.rows, self._badge = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'tr' and 'data-requirement' in attrs:
            self.rows.append({'id': attrs['data-requirement'], 'status': attrs['data-status'], 'badge': ''})
        self._badge = tag == 'span' and 'status' in (attrs.get('class') or '').split() and bool(self.rows)

    def handle_data(self, data):
        if self._badge:
            self.rows[-1]['badge'] += data

    def handle_endtag(self, tag):
        self._badge = False


def chromium(*args, timeout=30):
    if not CHROMIUM:
        pytest.fail('chromium is not installed: run `make bootstrap` (it installs the Debian package chromium)')
    return subprocess.run([CHROMIUM] + FLAGS + list(args), capture_output=True, text=True, timeout=timeout, check=True)


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    directory = tmp_path_factory.mktemp('report')
    for path, text in ai_conformance_files(result('1.34'), checklist('1.34'), METADATA).items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(text)
    return directory


def test_the_page_shows_every_requirement_of_the_1_34_checklist_with_its_status(report):
    dom = chromium('--dump-dom', (report / 'index.html').as_uri()).stdout
    parser = Rows()
    parser.feed(dom)
    expected = [(item['id'], next(r['status'] for r in result('1.34')['requirements'] if r['id'] == item['id']))
                for items in checklist('1.34')['spec'].values() for item in items]
    assert [(row['id'], row['status']) for row in parser.rows] == expected
    assert all(row['badge'] == row['status'] for row in parser.rows)
    assert 'AI Platform on AKS &lt;aiplatform.aks&gt;' in dom  # escaped text stays text in the DOM
    assert '<tr data-component="kaito" class="drift">' in dom


def test_a_screenshot_is_written(report, tmp_path):
    shot = tmp_path / 'report.png'
    chromium('--screenshot=%s' % shot, '--window-size=1400,2300', (report / 'index.html').as_uri())
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 10000

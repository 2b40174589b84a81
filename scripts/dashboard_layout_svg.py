"""Draw a Grafana dashboard's layout as SVG from its JSON: the panel grid, each panel's title, type, unit,
description and queries.

Grafana cannot run here to take a screenshot, so the README shows this instead; the picture says that it is the
layout and holds no data. tests/unit/roles/test_grafana_dashboard.py redraws it and compares, so it cannot go stale.

Usage: dashboard_layout_svg.py DASHBOARD.json OUTPUT.svg
"""

from __future__ import annotations

import json
import sys
import textwrap
from xml.sax.saxutils import escape

COLUMNS = 24
COLUMN_PX = 50
ROW_PX = 26
HEADER_PX = 64
MARGIN_PX = 10
LINE_PX = 13
# monospace at 10 px is about 6 px a character
CHARS_PER_PX = 1 / 6.1


def _text(x, y, text, size=11, weight='normal', family='sans-serif', fill='#1f2328'):
    return ('<text x="%d" y="%d" font-family="%s" font-size="%d" font-weight="%s" fill="%s">%s</text>'
            % (x, y, family, size, weight, fill, escape(text)))


def _panel(panel):
    grid = panel['gridPos']
    x, y = MARGIN_PX + grid['x'] * COLUMN_PX, HEADER_PX + grid['y'] * ROW_PX
    width, height = grid['w'] * COLUMN_PX - 6, grid['h'] * ROW_PX - 6
    if panel['type'] == 'row':
        return ['<rect x="%d" y="%d" width="%d" height="%d" fill="#e7ecf3"/>' % (x, y, width, height),
                _text(x + 8, y + 16, panel.get('title', ''), 13, 'bold')]
    unit = panel.get('fieldConfig', {}).get('defaults', {}).get('unit', '')
    parts = ['<rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="#ffffff" stroke="#9aa4b2"/>' % (x, y, width, height),
             _text(x + 8, y + 17, panel.get('title', ''), 12, 'bold'),
             _text(x + 8, y + 32, '%s, unit %s' % (panel['type'], unit or 'none'), 10, fill='#57606a')]
    line_y, bottom = y + 48, y + height - 6
    columns = max(int((width - 16) * CHARS_PER_PX), 10)
    for line in textwrap.wrap(panel.get('description', ''), columns):
        parts.append(_text(x + 8, line_y, line, 10, fill='#57606a'))
        line_y += LINE_PX
    line_y += 4
    for target in panel.get('targets', []):
        lines = textwrap.wrap('%s: %s' % (target['refId'], target['expr']), columns, break_on_hyphens=False)
        lines += textwrap.wrap('legend %s' % target['legendFormat'], columns) if target.get('legendFormat') else []
        for line in lines:
            if line_y > bottom:
                return parts + [_text(x + 8, bottom, '...', 10, family='monospace')]
            parts.append(_text(x + 8, line_y, line, 10, family='monospace'))
            line_y += LINE_PX
        line_y += 4
    return parts


def render(dashboard, source):
    """The SVG of the dashboard's panel grid, with a header that says what the picture is and is not."""
    panels = []
    for panel in dashboard['panels']:
        panels.append(panel)
        panels.extend(panel.get('panels', []))  # the panels of a collapsed row
    rows = max(p['gridPos']['y'] + p['gridPos']['h'] for p in panels)
    width, height = 2 * MARGIN_PX + COLUMNS * COLUMN_PX, HEADER_PX + rows * ROW_PX + MARGIN_PX
    variables = ', '.join('$%s (%s)' % (v['name'], v['type']) for v in dashboard['templating']['list'])
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">' % (width, height, width, height),
             '<rect width="100%" height="100%" fill="#f6f8fa"/>',
             _text(MARGIN_PX, 22, 'Layout of the Grafana dashboard "%s" (%s), drawn from its JSON: not a screenshot, no data'
                   % (dashboard['title'], source), 15, 'bold'),
             _text(MARGIN_PX, 42, 'Variables: %s. Grid of %d columns; each box is a panel with its type, unit, description and PromQL queries.'
                   % (variables, COLUMNS), 11, fill='#57606a')]
    for panel in panels:
        parts.extend(_panel(panel))
    parts.append('</svg>')
    return '\n'.join(parts) + '\n'


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(argv[1], encoding='utf-8') as f:
        svg = render(json.load(f), argv[1].rsplit('/', 1)[-1])
    with open(argv[2], 'w', encoding='utf-8') as f:
        f.write(svg)


if __name__ == '__main__':
    main(sys.argv)

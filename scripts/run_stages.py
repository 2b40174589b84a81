"""Run the test stages of `make test`, then print each stage's wall time and the slowest tests.

Usage: run_stages.py GROUP [GROUP ...], where a GROUP is one make target or several joined with "+".
Groups run one after the other; the targets of a group run at the same time, each with its output held
back and printed whole when it ends, so concurrent logs never interleave. The first failing group stops
the run (like make), and the times are printed either way.

Why groups: each of `ansible-test sanity` and `ansible-lint` keeps about one core busy, so on a 2-core
machine they finish together in the time of the longer one.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

RESULTS = os.environ.get('TEST_RESULTS_DIR', '.test-results')
SLOWEST = 10


def run_group(targets):
    """Run the targets of one group at once; return [(target, seconds, rc)] in the order they were given."""
    started = time.monotonic()
    procs = []
    for target in targets:
        log = tempfile.TemporaryFile(mode='w+b') if len(targets) > 1 else None
        cmd = ['make', '--no-print-directory', target]
        procs.append((target, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT if log else None), log))
    finished = {}
    while len(finished) < len(procs):
        for target, proc, log in procs:
            if target in finished or proc.poll() is None:
                continue
            finished[target] = (time.monotonic() - started, proc.returncode)
            if log is not None:
                log.seek(0)
                sys.stdout.flush()
                sys.stdout.buffer.write(b'==> make %s\n' % target.encode() + log.read())
                sys.stdout.flush()
                log.close()
        time.sleep(0.2)
    return [(target,) + finished[target] for target in targets]


def slowest_tests(limit=SLOWEST):
    """(seconds, test id) of the slowest pytest tests in the junit files the pytest stages wrote."""
    cases = []
    for path in sorted(glob.glob(os.path.join(RESULTS, '*.xml'))):
        for case in ET.parse(path).getroot().iter('testcase'):
            name = '%s::%s' % (case.get('classname', ''), case.get('name', ''))
            cases.append((float(case.get('time') or 0), name))
    return sorted(cases, reverse=True)[:limit]


def report(rows, total):
    print('\n== make test: wall time per stage ==')
    for target, seconds, rc in rows:
        print('  %-22s %7.1f s  %s' % (target, seconds, 'ok' if rc == 0 else 'FAILED (exit %d)' % rc))
    print('  %-22s %7.1f s  (%d min %02d s; stages joined by + ran at the same time)' % (
        'total', total, total // 60, total % 60))
    cases = slowest_tests()
    if cases:
        print('\n== the %d slowest tests ==' % len(cases))
        for seconds, name in cases:
            print('  %7.1f s  %s' % (seconds, name))


def failed(rows):
    return any(row[2] for row in rows)


def main(groups):
    if not groups:
        sys.exit(__doc__)
    for stale in glob.glob(os.path.join(RESULTS, '*.xml')):
        os.unlink(stale)
    started = time.monotonic()
    rows = []
    for group in groups:
        rows.extend(run_group(group.split('+')))
        if failed(rows):
            break
    report(rows, time.monotonic() - started)
    return 1 if failed(rows) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""Run a test helper (stand-in controller, stub model server) as a detached process, and stop it by its record; or
step a stand-in in a thread of the test process (``stepping``).

Molecule's prepare step starts helpers that must outlive ansible-playbook; its cleanup step stops them. A helper
writes a JSON state file once it is ready; ``start`` waits for that file and adds the process record (PID and
start time), so ``stop`` signals exactly that process and never a reused PID or anything found by name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.bed.kube_apiserver import ProcessRecord, process_alive, terminate_processes

REPO_ROOT = Path(__file__).resolve().parents[2]


def start(name: str, module: str, args: list[str], state_file: Path, timeout: float = 30.0) -> dict:
    """Start `python -m module serve --state state_file args...` detached; return its state once it is ready."""
    state_file = Path(state_file)
    old = read_state(state_file)
    if old and process_alive(ProcessRecord.from_dict(old['process'])):
        return old  # already running: starting twice is a no-op
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.unlink(missing_ok=True)
    log = state_file.with_suffix('.log')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get('PYTHONPATH')]))
    with open(log, 'ab') as out:
        popen = subprocess.Popen([sys.executable, '-m', module, 'serve', '--state', str(state_file)] + list(args),
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env,
                                 start_new_session=True)
    record = ProcessRecord(name, popen.pid, log=str(log), popen=popen)
    deadline = time.monotonic() + timeout
    while True:
        info = read_state(state_file)
        if info is not None:
            break
        if popen.poll() is not None or time.monotonic() >= deadline:
            terminate_processes([record])
            tail = log.read_text(errors='replace')[-3000:] if log.exists() else ''
            raise RuntimeError('%s did not start (exit status %s):\n%s' % (name, popen.returncode, tail))
        time.sleep(0.1)
    record.popen = None
    info['process'] = record.to_dict()
    tmp = state_file.with_suffix('.tmp')
    tmp.write_text(json.dumps(info, indent=2) + '\n')
    tmp.replace(state_file)
    return info


def stop(state_file: Path) -> bool:
    """Stop the recorded process (if it still runs) and forget it; True if there was one."""
    state_file = Path(state_file)
    info = read_state(state_file)
    if not info or 'process' not in info:
        return False
    terminate_processes([ProcessRecord.from_dict(info['process'])])
    state_file.unlink(missing_ok=True)
    return True


def read_state(state_file: Path) -> dict | None:
    try:
        return json.loads(Path(state_file).read_text())
    except (FileNotFoundError, ValueError):
        return None


def write_ready(state_file: Path, info: dict) -> None:
    """Called by the helper itself once it serves."""
    state_file = Path(state_file)
    tmp = state_file.with_suffix('.tmp')
    tmp.write_text(json.dumps(dict(info, pid=os.getpid()), indent=2) + '\n')
    tmp.replace(state_file)


def should_exit(watch: str | None) -> bool:
    """Helpers exit on their own when the test bed they serve is gone (a molecule run that failed before cleanup)."""
    return bool(watch) and not Path(watch).exists()


@contextlib.contextmanager
def stepping(step, interval: float = 0.2, failed=None):
    """Call `step()` every `interval` seconds in a thread for the length of the block (tests that play a controller
    beside the code under test). A round that raises is `failed(exc)`'s to report, else dropped: the next round
    tries again, as a controller requeues."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                step()
            except Exception as exc:  # pylint: disable=broad-except
                if failed:
                    failed(exc)
            time.sleep(interval)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def helper_parser(module: str, description: str, add_arguments):
    """The command line of a helper that `start` runs: `serve` (in the foreground) and `start` (detached) take --state,
    --watch and what `add_arguments(subparser)` adds; `stop` takes --state. Returns the parser and its subparsers."""
    parser = argparse.ArgumentParser(prog='python -m ' + module, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('serve', 'start'):
        p = sub.add_parser(name)
        p.add_argument('--state', required=True, help='JSON file with what the helper serves and its process record')
        p.add_argument('--watch', help='exit when this path no longer exists (the test bed is gone)')
        add_arguments(p)
    sub.add_parser('stop').add_argument('--state', required=True)
    return parser, sub


def start_or_stop(args, name: str, module: str, forwarded: list[str]) -> bool:
    """Carry out the `stop` and `start` commands (`start` runs `serve` detached with the `forwarded` options that were
    given, and --watch); False for any other command."""
    if args.command == 'stop':
        print(json.dumps({'stopped': stop(Path(args.state))}))
        return True
    if args.command == 'start':
        extra = []
        for option in forwarded + ['watch']:
            value = getattr(args, option.replace('-', '_'))
            if value is not None:
                extra += ['--' + option, str(value)]
        print(json.dumps(start(name, module, extra, Path(args.state))))
        return True
    return False

"""Stand-in for ansible-test's downloaded get-pip script (its host is unreachable offline).

ansible-test runs this file with pip's arguments; we bootstrap pip from the interpreter's own
ensurepip and install the requested packages from the configured package index.
"""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))

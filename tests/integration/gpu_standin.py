"""A stand-in for the NVIDIA device plugin on the test bed, which has no kubelet: it writes a Node's GPU capacity and
allocatable through the status subresource, as the kubelet reports what the device plugin registered.

    python -m tests.integration.gpu_standin report-gpus --kubeconfig K --node N [--resource nvidia.com/gpu=1 ...]
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.integration.kaito_standin import MERGE, client_for


def report_gpus(client, node, resources):
    """Add `resources` ({name: amount}) to the node's capacity and allocatable; returns the node's status."""
    nodes = client.resources.get(api_version='v1', kind='Node')
    amounts = dict((name, str(amount)) for name, amount in resources.items())
    nodes.status.patch(name=node, content_type=MERGE, body={'status': {'capacity': amounts, 'allocatable': amounts}})
    return nodes.get(name=node).to_dict()['status']


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.integration.gpu_standin', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('report-gpus', help='write GPU capacity on a Node (stand-in for the device plugin)')
    p.add_argument('--kubeconfig', required=True)
    p.add_argument('--node', required=True)
    p.add_argument('--resource', action='append', default=[], help='name=amount, default nvidia.com/gpu=1')
    args = parser.parse_args(argv)
    resources = dict(item.split('=', 1) for item in args.resource) or {'nvidia.com/gpu': '1'}
    status = report_gpus(client_for(args.kubeconfig), args.node, resources)
    print(json.dumps({'node': args.node, 'allocatable': dict((k, v) for k, v in status['allocatable'].items() if k in resources)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())

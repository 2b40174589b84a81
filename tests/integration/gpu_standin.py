"""A stand-in for the kubelet and the NVIDIA device plugin on the test bed, which has no kubelet: it writes a Node's
capacity and allocatable (GPUs included) through the status subresource, as the kubelet reports what the device
plugin registered. `Nodes` makes the GPU nodes of one test and removes them.

    python -m tests.integration.gpu_standin report-gpus --kubeconfig K --node N [--resource nvidia.com/gpu=1 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from tests.integration.kaito_standin import MERGE, client_for


RUN_LABEL = 'gpu-info.aiplatform.aks/run'  # the label of the nodes one test made
NOT_READY_TAINT = 'node.kubernetes.io/not-ready'


def api(client, kind, api_version='v1'):
    return client.resources.get(api_version=api_version, kind=kind)


def report_gpus(client, node, resources, allocatable=None):
    """Add `resources` ({name: amount}) to the node's capacity, and `allocatable` (default the same) to its allocatable;
    returns the node's status."""
    capacity = dict((name, str(amount)) for name, amount in resources.items())
    allocatable = capacity if allocatable is None else dict((name, str(amount)) for name, amount in allocatable.items())
    nodes = api(client, 'Node')
    nodes.status.patch(name=node, content_type=MERGE, body={'status': {'capacity': capacity, 'allocatable': allocatable}})
    return nodes.get(name=node).to_dict()['status']


def lift_not_ready(client, node):
    """Remove the not-ready taint the apiserver puts on a new node, as the node lifecycle controller does once the
    node's kubelet reports it Ready."""
    nodes = api(client, 'Node')
    taints = nodes.get(name=node).to_dict()['spec'].get('taints') or []
    if any(t['key'] == NOT_READY_TAINT for t in taints):
        kept = [t for t in taints if t['key'] != NOT_READY_TAINT]
        nodes.patch(name=node, content_type=MERGE, body={'spec': {'taints': kept or None}})


def pool_labels(pool, size, **extra):
    """The labels AKS gives a node of `pool` with VM size `size`."""
    return dict({'kubernetes.azure.com/agentpool': pool, 'agentpool': pool, 'node.kubernetes.io/instance-type': size}, **extra)


class Nodes:
    """Nodes made for one test, labelled RUN_LABEL=<its run id>, ready (no not-ready taint), with the capacity the
    kubelet would report."""

    def __init__(self, client):
        self.client = client
        self.run = uuid.uuid4().hex[:8]
        self.names = []

    def add(self, suffix, labels, gpus=None, allocatable=None):
        name = 'gi-%s-%s' % (self.run, suffix)
        api(self.client, 'Node').create(body={'metadata': {'name': name, 'labels': dict(labels, **{RUN_LABEL: self.run})}})
        self.names.append(name)
        lift_not_ready(self.client, name)
        capacity = dict({'cpu': '24', 'memory': '220Gi', 'pods': '110'}, **(gpus or {}))
        allocatable = dict(capacity, **(allocatable or {}))
        stored = report_gpus(self.client, name, capacity, allocatable)
        assert stored['capacity'] == capacity and stored['allocatable'] == allocatable  # what gpu_info will read
        return name

    def delete(self):
        nodes = api(self.client, 'Node')
        for name in self.names:
            nodes.delete(name=name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.integration.gpu_standin', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('report-gpus', help='make a Node ready and write its GPU capacity (stand-in for the kubelet and device plugin)')
    p.add_argument('--kubeconfig', required=True)
    p.add_argument('--node', required=True)
    p.add_argument('--resource', action='append', default=[], help='name=amount, default nvidia.com/gpu=1')
    args = parser.parse_args(argv)
    resources = dict(item.split('=', 1) for item in args.resource) or {'nvidia.com/gpu': '1'}
    client = client_for(args.kubeconfig)
    lift_not_ready(client, args.node)
    status = report_gpus(client, args.node, resources)
    print(json.dumps({'node': args.node, 'allocatable': dict((k, v) for k, v in status['allocatable'].items() if k in resources)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())

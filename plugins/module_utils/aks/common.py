# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AKS clusters and node pools share: the SDK import, operation handling and input checks."""

from __future__ import annotations

import ipaddress
import re
import time

try:
    from azure.core import MatchConditions
except ImportError:  # AzureModule reports the missing SDK before any call
    MatchConditions = None

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import (
    AzureOperationError, HttpResponseError, arm_error, is_not_found, operation_error)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.lro import wait_for
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import ArmResource, get_path
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.sdk import OptionalSdk

AKS_SDK = OptionalSdk('azure-mgmt-containerservice', 'azure.mgmt.containerservice', 'azure.mgmt.containerservice.models')
MINIMUM_KUBERNETES = (1, 34)
TERMINAL_STATES = ('succeeded', 'failed', 'canceled')
POOL_NAME = re.compile(r'^[a-z][a-z0-9]{0,11}$')
VM_SIZE = re.compile(r'^Standard_([A-Z]+)([0-9]+)([a-z]*)(_[A-Za-z0-9]+)*$', re.IGNORECASE)
MIG_GPUS = ('A100', 'H100', 'H200', 'B200', 'GB200')
TAINT = re.compile(r'^([A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?)(=([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)?:(NoSchedule|PreferNoSchedule|NoExecute)$')
LABEL_NAME = re.compile(r'^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')
LABEL_VALUE = re.compile(r'^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$')
# Node label keys AKS refuses in a pool's nodeLabels (BadRequest). The kubernetes.azure.com/ prefix is kept for AKS's own
# labels ("The 'kubernetes.azure.com' prefix is preserved by aks system labels", ams0/aks-nvme-ssd-provisioner#5). In the
# kubernetes.io and k8s.io namespaces only kubelet.kubernetes.io/, node.kubernetes.io/ and a fixed set of well-known keys
# are allowed (Azure/AKS#2866, #1937), plus node-role.kubernetes.io/ since AKS allowed custom node roles (Azure/AKS#4628).
RESERVED_LABEL_DOMAINS = ('kubernetes.azure.com', 'kubernetes.io', 'k8s.io')
ALLOWED_LABEL_DOMAINS = ('kubelet.kubernetes.io', 'node.kubernetes.io', 'node-role.kubernetes.io')
ALLOWED_LABEL_KEYS = (
    'beta.kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/instance-type', 'kubernetes.io/arch',
    'kubernetes.io/os', 'kubernetes.io/hostname', 'kubernetes.io/instance-type', 'failure-domain.beta.kubernetes.io/zone',
    'failure-domain.beta.kubernetes.io/region', 'failure-domain.kubernetes.io/zone', 'failure-domain.kubernetes.io/region',
)
SURGE = re.compile(r'^([1-9][0-9]*|([1-9][0-9]?|100)%)$')


def parse_version(version):
    """(major, minor[, patch]) of '1.34' or '1.34.2', or None when it is not such a version."""
    if not isinstance(version, str) or not re.match(r'^[0-9]+\.[0-9]+(\.[0-9]+)?$', version):
        return None
    return tuple(int(p) for p in version.split('.'))


def check_kubernetes_version(version, field='kubernetes_version'):
    if version is None:
        return []
    parsed = parse_version(version)
    if parsed is None:
        return ['%s must look like 1.34 or 1.34.2, got %r' % (field, version)]
    if parsed[:2] < MINIMUM_KUBERNETES:
        return ['%s %s is too old: the CNCF AI conformance checklist needs Kubernetes %d.%d or later' % ((field, version) + MINIMUM_KUBERNETES)]
    return []


def vm_family(vm_size):
    """('NC', 24, 'ads', ['A100', 'v4']) for Standard_NC24ads_A100_v4, or None for a malformed size."""
    match = VM_SIZE.match(vm_size or '')
    if not match:
        return None
    return match.group(1).upper(), int(match.group(2)), match.group(3), vm_size.split('_')[2:]


def is_gpu_size(vm_size):
    """An Azure N-series size (NC, ND, NG, NV...), the GPU families; NP is the FPGA family."""
    family = vm_family(vm_size)
    return bool(family) and family[0].startswith('N') and family[0] != 'NP'


def supports_mig(vm_size):
    family = vm_family(vm_size)
    return bool(family) and family[0].startswith('N') and any(part.upper() in MIG_GPUS for part in family[3])


def check_vm_size(vm_size, field='vm_size'):
    if vm_size is not None and vm_family(vm_size) is None:
        return ['%s %r is not an Azure VM size such as Standard_D4s_v5 or Standard_NC24ads_A100_v4' % (field, vm_size)]
    return []


def check_taints(taints, field='taints'):
    problems, seen = [], {}
    for taint in taints or []:
        match = TAINT.match(taint)
        if not match:
            problems.append('%s entry %r must look like key=value:NoSchedule (effects: NoSchedule, PreferNoSchedule, NoExecute)'
                            % (field, taint))
            continue
        key_effect = (match.group(1), match.group(6))
        if key_effect in seen:
            # Kubernetes refuses a Node with two taints of the same key and effect, so the pool's nodes would never register
            problems.append('%s entries %r and %r have the same key and effect (%s:%s); a node takes one taint per key and effect'
                            % (field, seen[key_effect], taint, key_effect[0], key_effect[1]))
        else:
            seen[key_effect] = taint
    return problems


def reserved_label(key):
    """True when a label key lies in a namespace AKS or Kubernetes keeps for itself."""
    if '/' not in key:
        return False
    domain = key.split('/', 1)[0].lower()
    if domain in ALLOWED_LABEL_DOMAINS or key in ALLOWED_LABEL_KEYS:
        return False
    return any(domain == d or domain.endswith('.' + d) for d in RESERVED_LABEL_DOMAINS)


def check_labels(labels, field='labels'):
    problems = []
    for key, value in (labels or {}).items():
        if not LABEL_NAME.match(key) or len(key.split('/')[-1]) > 63:
            problems.append('%s key %r is not a valid Kubernetes label name' % (field, key))
        elif reserved_label(key):
            problems.append('%s key %r uses a prefix reserved by AKS and Kubernetes (%s/); choose your own prefix, such as example.com/'
                            % (field, key, key.split('/', 1)[0]))
        if not LABEL_VALUE.match(str(value)):
            problems.append('%s value %r of %s is not a valid Kubernetes label value' % (field, value, key))
    return problems


def check_cidrs(ranges, field):
    problems = []
    for item in ranges or []:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            problems.append('%s entry %r is not an IP address or CIDR range' % (field, item))
    return problems


class AksResource(ArmResource):
    """An AKS resource: waits out running operations, writes only over the read it planned from, repairs a failed state.

    With `wait` False a write or delete is started and not waited for (a later run waits for it). With `repair` False a
    resource whose last operation failed is reported with the service's error instead of being written again.
    """

    poll_seconds = 5
    etag_path = 'eTag'  # where the resource keeps its entity tag

    def __init__(self, client, name, timeout, check_mode=False, purge_tags=False, wait=True, repair=True):
        super(AksResource, self).__init__(client, name, check_mode, purge_tags)
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.wait = wait
        self.repair = repair

    def state(self, resource):
        return ((resource or {}).get('properties') or {}).get('provisioningState') or ''

    def settle(self, current):
        while current is not None and self.state(current).lower() not in TERMINAL_STATES and self.state(current):
            if time.monotonic() >= self.deadline:
                raise AzureOperationError('Timed out after %ss waiting for the %s operation on %s %s to end; run the task again to resume.'
                                          % (self.timeout, self.state(current), self.kind, self.name),
                                          error={'code': 'Timeout', 'message': 'operation still running'})
            time.sleep(min(self.poll_seconds, max(self.deadline - time.monotonic(), 0.1)))
            current = self.read()
        if not self.repair and self.needs_repair(current):
            raise self.last_failure(current)
        return current

    def needs_repair(self, current):
        return self.state(current).lower() == 'failed'

    def last_failure(self, current):
        """The error of the operation that left `current` failed, as AKS reports it in status.provisioningError."""
        error = get_path(current, 'properties.status.provisioningError') or {}
        error = {'code': error.get('code') or 'Failed', 'message': error.get('message') or 'AKS gave no details'}
        return AzureOperationError('The last operation on %s failed: %s: %s. Run again to retry it.'
                                   % (self.label, error['code'], error['message'].rstrip('.')),
                                   error=error)

    def precondition(self, current):
        """SDK keywords that make the service refuse a write based on a stale read (412): If-Match the entity tag of
        `current`, or If-None-Match * when `current` is None (a create must not overwrite one made meanwhile)."""
        if current is None:
            return {'match_condition': MatchConditions.IfMissing}
        etag = get_path(current, self.etag_path)
        return {'etag': etag, 'match_condition': MatchConditions.IfNotModified} if etag else {}

    def run(self, action, start, gone_ok=False, resend_when_busy=False):
        """Start an operation with `start()` and wait for it (unless `wait` is off: then return the service's first answer).

        With `resend_when_busy` (a delete: the same request is right whatever ran before it), another operation in the
        way is waited out and the request sent again; a write is never re-sent as it was: present() plans it again
        from a new read. With `gone_ok`, a resource that is not there (a delete of something already deleted) returns
        None.
        """
        attempts = 3 if resend_when_busy else 1
        for attempt in range(attempts):
            try:
                poller = start()
                if not self.wait:
                    return poller.polling_method().resource()  # the service's first answer: the operation is under way
                return wait_for(poller, self.timeout, action, self.deadline)
            except AzureOperationError as exc:
                if exc.error.get('code') != 'OperationNotAllowed' or attempt == attempts - 1:
                    raise
            except HttpResponseError as exc:
                if gone_ok and is_not_found(exc):
                    return None
                if arm_error(exc)['code'] != 'OperationNotAllowed' or attempt == attempts - 1:
                    raise operation_error(action, exc)
            self.settle(self.read())
        return None

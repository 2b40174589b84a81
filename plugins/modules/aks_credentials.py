#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: aks_credentials
short_description: Write a kubeconfig for an AKS cluster, without kubelogin
version_added: 0.1.0
description:
  - Fetches the cluster's user (or admin) kubeconfig from AKS and writes it to O(path) with mode 0600. Its content
    is never put in the task result.
  - When local accounts are off, AKS hands out a kubeconfig that needs the kubelogin binary. This module instead
    gets a Microsoft Entra token for the AKS server application with the module's own Azure credential and writes it
    into the kubeconfig, so the Kubernetes modules that follow work with no extra binary.
  - The file is rewritten only when it no longer fits the cluster or its token has less than 15 minutes left, so a
    second run reports C(changed=false). A current file that others may read gets mode 0600 (C(changed=true)).
  - In check mode, a cluster that does not exist yet (a new environment) is not an error; the result says the
    kubeconfig would be written once it does.
options:
  name:
    description: Cluster name.
    type: str
    required: true
  path:
    description: Where to write the kubeconfig.
    type: path
    required: true
  admin:
    description:
      - Fetch the static admin credential. Only works when the cluster allows local accounts.
    type: bool
    default: false
  return_token:
    description:
      - Also return the bearer token as RV(api_key), for the O(aiplatform.aks.k8s_apply#module:api_key) option of the Kubernetes modules.
        Set C(no_log=true) on the task when you use this.
    type: bool
    default: false
extends_documentation_fragment:
  - aiplatform.aks.resource_group
  - aiplatform.aks.azure_auth
  - aiplatform.aks.attributes
attributes:
  check_mode:
    description: Fetches nothing secret that it would not need and writes nothing; reports whether the file would change.
    support: full
  diff_mode:
    description: Shows the server and the kind of user, never the credentials.
    support: full
requirements:
  - azure-mgmt-containerservice >= 41
  - PyYAML
'''

EXAMPLES = r'''
- name: Kubeconfig for the roles that follow
  aiplatform.aks.aks_credentials:
    name: aks-ai-platform
    resource_group: rg-ai-platform
    path: "{{ playbook_dir }}/../.kube/aks-ai-platform"
'''

RETURN = r'''
path:
  description: The kubeconfig written.
  returned: always
  type: str
server:
  description: API server URL of the cluster.
  returned: always
  type: str
auth:
  description: How the kubeconfig authenticates, C(entra-token), C(token) or C(client-certificate).
  returned: always
  type: str
api_key:
  description: The bearer token, with O(return_token=true) only.
  returned: when O(return_token=true)
  type: str
'''

import os

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.common import AKS_SDK
from ansible_collections.aiplatform.aks.plugins.module_utils.aks.credentials import (
    dump, entra_token, fetch_kubeconfig, private_mode_missing, read_kubeconfig, reusable, uses_exec_plugin, with_token, write_private)
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import AzureOperationError
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.module import AzureModule
from ansible_collections.aiplatform.aks.plugins.module_utils.azure.reconcile import RESOURCE_GROUP_ARG_SPEC
from ansible_collections.aiplatform.aks.plugins.module_utils.module import merge_specs


def auth_kind(kubeconfig, exec_plugin):
    if exec_plugin:
        return 'entra-token'
    user = ((kubeconfig.get('users') or [{}])[0].get('user') or {})
    return 'token' if 'token' in user else 'client-certificate'


def main():
    spec = merge_specs(
        RESOURCE_GROUP_ARG_SPEC,
        name=dict(type='str', required=True),
        path=dict(type='path', required=True),
        admin=dict(type='bool', default=False),
        return_token=dict(type='bool', default=False),
    )
    module = AzureModule(argument_spec=spec, required_libs=[AKS_SDK.requirement])
    p = module.params
    if os.path.isdir(p['path']):
        module.fail_on_input(['path %s is a directory: give the file to write the kubeconfig to, such as %s'
                              % (p['path'], os.path.join(p['path'], p['name']))])
    try:
        fetched = fetch_kubeconfig(module.client(AKS_SDK.ContainerServiceClient), p['resource_group'], p['name'], admin=p['admin'])
    except AzureOperationError as exc:
        if module.check_mode and exc.status == 404:
            # check mode on a new environment: the cluster this run would create is not there yet
            module.exit_json(changed=True, path=p['path'], server=None, auth=None,
                             msg='AKS cluster %s does not exist yet: its kubeconfig would be written once it does' % p['name'])
        if p['admin'] and 'local accounts' in str(exc):
            exc = AzureOperationError('%s. The cluster has local accounts off (the secure default): use admin: false, which '
                                      'authenticates with an Entra token.' % exc, exc.error)
        module.fail_azure(exc)
    exec_plugin = uses_exec_plugin(fetched)
    existing = read_kubeconfig(p['path'])
    changed = not reusable(existing, fetched)
    loose = existing is not None and not changed and private_mode_missing(p['path'])
    if loose and not module.check_mode:
        os.chmod(p['path'], 0o600)  # the content is current, but others could read the credentials
    changed = changed or loose
    if not changed:
        config = existing
    elif exec_plugin and not module.check_mode:
        config = with_token(fetched, *entra_token(module.auth.credential))
    else:
        config = fetched
    if changed and not module.check_mode:
        write_private(p['path'], dump(config))
    server = ((fetched.get('clusters') or [{}])[0].get('cluster') or {}).get('server')
    kind = auth_kind(fetched, exec_plugin)
    result = dict(changed=changed, path=p['path'], server=server, auth=kind,
                  diff={'before': {'path': p['path'], 'present': existing is not None}, 'after': {'path': p['path'], 'server': server, 'auth': kind}})
    if p['return_token']:
        user = ((config.get('users') or [{}])[0].get('user') or {})
        if not user.get('token'):
            module.fail_json(msg='return_token needs a token-based credential; this cluster\'s %s credential uses %s' % (
                'admin' if p['admin'] else 'user', kind))
        result['api_key'] = user['token']
    module.exit_json(**result)


if __name__ == '__main__':
    main()

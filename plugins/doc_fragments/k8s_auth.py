# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file. Falls back to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG) or C(~/.kube/config);
        without any of them and without O(host), the in-cluster service account is used.
    type: path
  context:
    description: Context of the kubeconfig to use. Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description: API server URL, used with O(api_key) instead of a kubeconfig. Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description: Bearer token for O(host). Falls back to E(K8S_AUTH_API_KEY). Never shown in task output.
    type: str
  ca_cert:
    description: CA certificate file that signed the API server's certificate. Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Verify the API server's certificate. Falls back to E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
'''

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster credentials: kubeconfigs from AKS, and an Entra token in place of kubelogin when local accounts are off."""

from __future__ import annotations

import copy
import os
import tempfile
import time

from ansible_collections.aiplatform.aks.plugins.module_utils.azure.errors import arm_call

try:
    import yaml
except ImportError:  # PyYAML is a dependency of ansible-core itself
    yaml = None

# The Entra application that fronts every AKS API server (the audience kubelogin asks for).
AKS_SERVER_APP_SCOPE = '6dae42f8-4368-4678-94ff-3960e28e3630/.default'
EXTENSION = 'aiplatform.aks'
# A token with less than this left is replaced, so the roles that follow do not see it expire.
MIN_TOKEN_SECONDS = 15 * 60


def fetch_kubeconfig(client, resource_group, name, admin=False):
    """The cluster's kubeconfig (parsed) as AKS hands it out."""
    operation = client.managed_clusters.list_cluster_admin_credentials if admin else client.managed_clusters.list_cluster_user_credentials
    results = arm_call('get %s credentials of AKS cluster %s' % ('admin' if admin else 'user', name), operation, resource_group, name)
    value = results.kubeconfigs[0].value
    return yaml.safe_load(value.decode('utf-8') if isinstance(value, bytes) else value)


def uses_exec_plugin(kubeconfig):
    """True when the kubeconfig's users authenticate through an exec plugin (kubelogin)."""
    return any('exec' in (user.get('user') or {}) for user in kubeconfig.get('users') or [])


def with_token(kubeconfig, token, expires_on):
    """The kubeconfig with every user switched from kubelogin to the bearer token; the expiry is kept as an extension."""
    config = copy.deepcopy(kubeconfig)
    for user in config.get('users') or []:
        user['user'] = {'token': token}
    config['extensions'] = [e for e in config.get('extensions') or [] if e.get('name') != EXTENSION]
    config['extensions'].append({'name': EXTENSION, 'extension': {'tokenExpiresOn': int(expires_on)}})
    return config


def entra_token(credential):
    """(token, expires_on) for the AKS server application, from the module's own Azure credential."""
    access = credential.get_token(AKS_SERVER_APP_SCOPE)
    return access.token, access.expires_on


def token_expiry(kubeconfig):
    for ext in (kubeconfig or {}).get('extensions') or []:
        if ext.get('name') == EXTENSION:
            return (ext.get('extension') or {}).get('tokenExpiresOn')
    return None


def _without_secrets(kubeconfig):
    """Cluster, context and user names: what decides whether a kubeconfig on disk still fits."""
    config = copy.deepcopy(kubeconfig or {})
    for user in config.get('users') or []:
        user['user'] = sorted((user.get('user') or {}).keys())
    config.pop('extensions', None)
    return config


def reusable(existing, kubeconfig):
    """True when the file on disk still serves: the same clusters, contexts and users, and, where kubelogin
    is replaced by a token, a token with enough time left."""
    if existing is None:
        return False
    if uses_exec_plugin(kubeconfig):
        expiry = token_expiry(existing)
        return (_without_secrets(existing) == _without_secrets(with_token(kubeconfig, '', 0))
                and expiry is not None and expiry - time.time() > MIN_TOKEN_SECONDS)
    return existing == kubeconfig


def read_kubeconfig(path):
    try:
        with open(path) as handle:
            return yaml.safe_load(handle)
    except (IOError, OSError, yaml.YAMLError):
        return None


def private_mode_missing(path):
    """True when users other than the owner may read or write the file at `path`."""
    return bool(os.stat(path).st_mode & 0o077)


def write_private(path, content):
    """Write `content` to `path` with mode 0600 from the first byte, atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix='.kubeconfig-')
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(content)
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def dump(kubeconfig):
    return yaml.safe_dump(kubeconfig, default_flow_style=False, sort_keys=False)

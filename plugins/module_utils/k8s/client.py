# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes connection: options, client construction, and in-memory discovery."""

from __future__ import annotations

import json
import os
import re
import traceback

from ansible.module_utils.basic import env_fallback

from ansible_collections.aiplatform.aks.plugins.module_utils.version import USER_AGENT

try:
    import urllib3
    import kubernetes
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.discovery import LazyDiscoverer
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
    LazyDiscoverer = object

    # stand-ins so that `except` clauses elsewhere stay valid; modules report the missing library first
    class ApiException(Exception):
        pass

    class ResourceNotFoundError(Exception):
        pass

# k8s_call's default: "not found" is an error like any other
_RAISE = object()
# a connection that fails or drops (after the client library's own retries)
CONNECTION_ERRORS = (urllib3.exceptions.HTTPError, OSError) if HAS_KUBERNETES else (OSError,)

K8S_AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type='path', fallback=(env_fallback, ['K8S_AUTH_KUBECONFIG'])),
    context=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_CONTEXT'])),
    host=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_HOST'])),
    api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['K8S_AUTH_API_KEY'])),
    ca_cert=dict(type='path', aliases=['ssl_ca_cert'], fallback=(env_fallback, ['K8S_AUTH_SSL_CA_CERT'])),
    validate_certs=dict(type='bool', aliases=['verify_ssl'], fallback=(env_fallback, ['K8S_AUTH_VERIFY_SSL'])),
)


class K8sError(Exception):
    """A Kubernetes request or wait that failed, with a message fit for the user."""


class MemoryDiscoverer(LazyDiscoverer):
    """Lazy discovery kept in memory for one module run: nothing is written to /tmp."""

    def _Discoverer__init_cache(self, refresh=False):  # pylint: disable=unused-argument
        self._cache = {'library_version': kubernetes.__version__}
        self._load_server_info()
        self.discover()

    def _write_cache(self):
        pass


def _default_kubeconfig():
    path = os.path.expanduser(os.environ.get('KUBECONFIG', '~/.kube/config').split(os.pathsep)[0])
    return path if os.path.exists(path) else None


def _check_kubeconfig_file(path):
    """Refuse, naming it, a kubeconfig that is not a YAML mapping (the library fails on it with a bare TypeError)."""
    import yaml
    try:
        with open(path, encoding='utf-8') as handle:
            content = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise K8sError('cannot read kubeconfig %s: %s' % (path, exc))
    if not isinstance(content, dict):
        raise K8sError('kubeconfig %s is not a kubeconfig: expected a YAML mapping with clusters, contexts and users, got %s'
                       % (path, type(content).__name__))


def build_configuration(params):
    """A kubernetes.client.Configuration from explicit host/token, a kubeconfig, or the in-cluster service account."""
    config = kubernetes.client.Configuration()
    kubeconfig = params.get('kubeconfig')
    if params.get('host'):
        config.host = params['host']
        if params.get('api_key'):
            config.api_key = {'authorization': 'Bearer ' + params['api_key']}
    elif kubeconfig or _default_kubeconfig():
        path = kubeconfig or _default_kubeconfig()
        if not os.path.exists(path):
            raise K8sError('kubeconfig %s does not exist' % path)
        if not os.path.isfile(path):
            raise K8sError('kubeconfig %s is not a file (a directory?): give the path of the kubeconfig file itself' % path)
        _check_kubeconfig_file(path)
        try:
            kubernetes.config.load_kube_config(config_file=path, context=params.get('context'), client_configuration=config)
        except kubernetes.config.ConfigException as exc:
            raise K8sError('cannot use kubeconfig %s: %s' % (path, exc))
        except Exception as exc:  # pylint: disable=broad-except
            # not YAML, not a mapping, unreadable: the library raises whatever its parser raised
            raise K8sError('cannot read kubeconfig %s: %s: %s' % (path, type(exc).__name__, exc))
    else:
        try:
            kubernetes.config.load_incluster_config(client_configuration=config)
        except kubernetes.config.ConfigException:
            raise K8sError('no Kubernetes connection: set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG), '
                           'host and api_key, or run inside a cluster')
    if params.get('ca_cert'):
        config.ssl_ca_cert = params['ca_cert']
    if params.get('validate_certs') is not None:
        config.verify_ssl = params['validate_certs']
    return config


def _named(api_client):
    """The client sends the collection's user agent, so the apiserver's audit log names the tool."""
    api_client.user_agent = USER_AGENT
    return api_client


def dynamic_client(params, configuration=None):
    """A DynamicClient for the connection options `params` (or a Configuration already built from them)."""
    api_client = _named(kubernetes.client.ApiClient(configuration or build_configuration(params)))
    return DynamicClient(api_client, cache_file='in-memory', discoverer=MemoryDiscoverer)


def dynamic_client_from_dict(kubeconfig):
    """A client for a kubeconfig held in memory (for example fetched from AKS), never written to disk."""
    api_client = _named(kubernetes.config.new_client_from_config_dict(kubeconfig))
    return DynamicClient(api_client, cache_file='in-memory', discoverer=MemoryDiscoverer)


# What YAML (the apiserver reads apply patches with a YAML 1.1 parser) does not keep unescaped: DEL and the C1
# controls, the byte order mark and the non-characters U+FFFE/U+FFFF (refused), and the line breaks NEL, U+2028 and
# U+2029 (folded into a space). JSON already escapes the C0 controls.
_YAML_UNPRINTABLE = re.compile('[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]')


def apply_patch_body(obj):
    """An object as the body of a server-side apply (application/apply-patch+yaml): JSON, which is YAML, in UTF-8.

    The client's own serialiser escapes every non-ASCII character and writes characters outside the Basic
    Multilingual Plane (emoji) as a JSON surrogate pair, which YAML does not accept ("invalid Unicode character escape
    code"). Here such characters are sent as UTF-8 and only what YAML cannot hold unescaped is escaped.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(',', ':'))
    text = _YAML_UNPRINTABLE.sub(lambda m: '\\u%04x' % ord(m.group()), text)
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise K8sError('a string holds a lone surrogate (%r), which is not Unicode text and cannot be sent' % exc.object[exc.start:exc.end])


def served(client, api_version, kind):
    """The API resource of a kind, or None when the server does not serve it (for example its CRD is not installed)."""
    try:
        return client.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        return None
    except CONNECTION_ERRORS as exc:
        raise K8sError('cannot discover %s %s: %s' % (api_version, kind, connection_error_message(exc)))


def k8s_call(action, call, *args, **kwargs):
    """`call(*args, **kwargs)`, with every API error turned into one K8sError "cannot <action>: <the server's message>".

    With the keyword `not_found`, a 404 returns that value instead (a read of something missing, the delete of
    something already gone).
    """
    not_found = kwargs.pop('not_found', _RAISE)
    try:
        return call(*args, **kwargs)
    except ApiException as exc:
        if not_found is not _RAISE and exc.status == 404:
            return not_found
        raise K8sError('cannot %s: %s' % (action, api_error_message(exc)))
    except CONNECTION_ERRORS as exc:
        raise K8sError('cannot %s: %s' % (action, connection_error_message(exc)))


def connection_error_message(exc):
    return 'the connection to the Kubernetes API server failed (%s: %s)' % (type(exc).__name__, exc)


def list_items(client, api_version, kind, action, **kwargs):
    """The objects of a kind as dicts (get's keyword arguments select them), or None when the server does not serve
    the kind; an API error is a K8sError "cannot <action>: ..."."""
    resource = served(client, api_version, kind)
    if resource is None:
        return None
    return k8s_call(action, lambda: client.get(resource, **kwargs).to_dict().get('items') or [])


def read_object(client, resource, name, namespace=None):
    """An object as a dict, or None when it does not exist."""
    return k8s_call('read %s %s' % (resource.kind, name), lambda: client.get(resource, name=name, namespace=namespace).to_dict(),
                    not_found=None)


def api_error_message(exc):
    """The apiserver's own message of an ApiException (its Status object), else the exception text."""
    body = getattr(exc, 'body', None)
    if body:
        try:
            status = json.loads(body)
            return '%s (HTTP %s %s)' % (status.get('message', body), exc.status, status.get('reason', ''))
        except (ValueError, TypeError):
            return '%s (HTTP %s)' % (body, getattr(exc, 'status', '?'))
    return str(exc)

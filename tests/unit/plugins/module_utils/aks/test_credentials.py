"""Kubeconfig handling: kubelogin replaced by an Entra token, files reused while they fit, private writes."""

import os
import stat
import time

from ansible_collections.aiplatform.aks.plugins.module_utils.aks.credentials import (
    read_kubeconfig, reusable, token_expiry, uses_exec_plugin, with_token, write_private, dump)

EXEC = {'apiVersion': 'v1', 'kind': 'Config', 'clusters': [{'name': 'c', 'cluster': {'server': 'https://127.0.0.1:6443'}}],
        'contexts': [{'name': 'c', 'context': {'cluster': 'c', 'user': 'u'}}], 'current-context': 'c',
        'users': [{'name': 'u', 'user': {'exec': {'command': 'kubelogin', 'args': ['get-token']}}}]}
STATIC = dict(EXEC, users=[{'name': 'u', 'user': {'token': 'static'}}])


def test_exec_plugin_is_replaced_by_a_token_with_its_expiry():
    assert uses_exec_plugin(EXEC) and not uses_exec_plugin(STATIC)
    tokened = with_token(EXEC, 'tok', 1234)
    assert tokened['users'][0]['user'] == {'token': 'tok'} and token_expiry(tokened) == 1234
    assert EXEC['users'][0]['user']['exec']['command'] == 'kubelogin', 'input untouched'


def test_reuse_needs_same_cluster_and_a_token_with_time_left():
    fresh_token = with_token(EXEC, 'tok', time.time() + 3600)
    assert reusable(fresh_token, EXEC)
    assert not reusable(with_token(EXEC, 'tok', time.time() + 60), EXEC), 'a token about to expire is replaced'
    moved = dict(EXEC, clusters=[{'name': 'c', 'cluster': {'server': 'https://127.0.0.1:7443'}}])
    assert not reusable(fresh_token, moved)
    assert reusable(STATIC, STATIC) and not reusable(STATIC, dict(STATIC, users=[{'name': 'u', 'user': {'token': 'rotated'}}]))
    assert not reusable(None, STATIC)


def test_private_write_is_0600_and_round_trips(tmp_path):
    path = tmp_path / 'nested' / 'kubeconfig'
    write_private(str(path), dump(STATIC))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_kubeconfig(str(path)) == STATIC
    assert read_kubeconfig(str(tmp_path / 'missing')) is None
    assert [p.name for p in path.parent.iterdir()] == ['kubeconfig'], 'no temporary file left behind'

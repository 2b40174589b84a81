"""With -vvv Ansible prints every task's result with the module's arguments (its invocation): a real ansible-playbook
run, in text output, that applies Secrets with k8s_apply (inline, from a template, and in a call that fails) and probes
a model with an API-key header shows neither the Secret's value nor the key, and still shows the names to debug with."""

import base64
import re
import uuid

import pytest

from tests.integration.inference_stub import InferenceStub
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration


def test_a_vvv_run_shows_no_secret_value_and_no_api_key(k8s_env, k8s_client):
    namespace = 'vv-' + uuid.uuid4().hex[:8]
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': namespace}})
    secret_value, api_key = 'sv-' + uuid.uuid4().hex, 'ak-' + uuid.uuid4().hex
    with InferenceStub() as stub:
        run = run_playbook('k8s_verbose_secrets.yml', {
            'secret_namespace': namespace, 'secret_name': 'db', 'secret_value': secret_value, 'api_key': api_key,
            'probe_url': stub.url}, env=k8s_env, verbosity=3, json_output=False)
        sent = [r['headers'] for r in stub.requests]
    output = run.stdout + run.stderr
    assert run.rc == 0, output[-3000:]
    assert 'Apply a Secret with an object the server refuses' in output and 'Bad_Name' in output, 'the failed call was printed'
    # the values were used ...
    secrets = k8s_client.resources.get(api_version='v1', kind='Secret')
    for name in ('db', 'db-templated'):
        data = secrets.get(name=name, namespace=namespace).to_dict()['data']
        assert base64.b64decode(data['password']).decode() == secret_value
    assert any(h.get('X-Api-Key') == api_key for h in sent)
    # ... and never printed, in clear or base64-encoded
    for value in (secret_value, api_key, base64.b64encode(secret_value.encode()).decode()):
        assert value not in output, 'printed: %s' % output[max(output.index(value) - 300, 0):output.index(value) + 100]
    # what is needed to debug still is
    masked = r"""["']?%s["']?: ["']\*{8}["']"""
    assert re.search(masked % 'X-Api-Key', output), 'the header name is shown, its value masked'
    assert len(re.findall(masked % 'password', output)) >= 3 and re.search(r'name["\']?: ["\']?db-templated', output)

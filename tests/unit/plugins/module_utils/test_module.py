"""PlatformModule: the invocation a module returns shows its arguments through its redact_args, also when Ansible's own
argument checks fail the module before its code runs."""

import contextlib
import io
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.aiplatform.aks.plugins.module_utils.module import PlatformModule


def run(args, redact_args, body=None):
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        module = PlatformModule(argument_spec=dict(headers=dict(type='dict'), retries=dict(type='int')),
                                redact_args=redact_args)
        (body or (lambda m: m.exit_json(changed=False)))(module)
    return json.loads(output.getvalue())


def mask(params):
    params['headers'] = dict((k, '********') for k in params.get('headers') or {})
    return params


@pytest.mark.parametrize('args, body', [
    ({'headers': {'X-Api-Key': 'ak-123456'}}, None),
    ({'headers': {'X-Api-Key': 'ak-123456'}}, lambda m: m.fail_json(msg='refused')),
    ({'headers': {'X-Api-Key': 'ak-123456'}, 'retries': 'many'}, None),  # Ansible's type check fails the module first
])
def test_the_invocation_is_redacted_on_success_failure_and_bad_arguments(args, body):
    result = run(args, mask, body)
    assert result['invocation']['module_args']['headers'] == {'X-Api-Key': '********'}
    assert 'ak-123456' not in json.dumps(result)


def test_without_redact_args_the_invocation_is_ansibles():
    output = io.StringIO()
    with patch_module_args({'headers': {'Host': 'chat.example'}}), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        PlatformModule(argument_spec=dict(headers=dict(type='dict'))).exit_json(changed=False)
    assert json.loads(output.getvalue())['invocation']['module_args']['headers'] == {'Host': 'chat.example'}

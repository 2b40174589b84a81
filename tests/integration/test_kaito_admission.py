"""The strict KAITO admission stand-in on the test apiserver: what KAITO v0.12 refuses is refused with KAITO's message,
by the apiserver (status >= 400, not a write), and the GPU example is admitted only where it is meant to run."""

import copy
import json
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes.dynamic.exceptions import ApiException

from tests.integration import kaito_standin as kaito
from tests.integration.module_call import call_module, warnings
from tests.integration.playbook import REPO_ROOT
from tests.integration.refusals import BadInput, WriteWatch, cases, refused_before_writing

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
DEFAULTS = yaml.safe_load((REPO_ROOT / 'roles' / 'model_workspace' / 'defaults' / 'main.yml').read_text())
NS = 'kaito-admission-' + uuid.uuid4().hex[:6]
A100 = 'Standard_NC24ads_A100_v4'
DENIED = 'admission webhook "kaito-admission-standin.kaito.sh" denied the request: '


@pytest.fixture(scope='module')
def namespace(k8s_client):
    kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml'])
    k8s_client.resources.get(api_version='v1', kind='Namespace').create(body={'metadata': {'name': NS}})
    return NS


def body(name='ws', resource=None, inference=None, **extra):
    obj = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace', 'metadata': {'name': name, 'namespace': NS},
           'resource': {'instanceType': A100} if resource is None else resource,
           'inference': {'preset': {'name': 'phi-4-mini-instruct'}} if inference is None else inference}
    obj.update(extra)
    return obj


def test_the_apiserver_refuses_what_the_stand_in_denies_with_kaitos_message_and_writes_nothing(bed, k8s_client, namespace, kaito_admission):
    watch = WriteWatch(bed)
    with pytest.raises(ApiException) as refused:
        kaito.workspaces(k8s_client).create(body=body(resource={'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}}), namespace=NS)
    assert refused.value.status >= 400
    assert DENIED in message(refused)
    assert 'missing field(s): spec.instanceType is required when node auto-provisioning is enabled, spec.resource.instanceType' in message(refused)
    assert watch.writes()['kubernetes'] == []
    assert kaito_admission.reviews and kaito_admission.reviews[-1][0] == 'CREATE'


def message(refused):
    return json.loads(refused.value.body)['message']


def gpu_example_workspace(instance_type=None):
    """The role's GPU example as the workspace it renders (resource, preset)."""
    example = DEFAULTS['model_workspace_phi4_mini_gpu']
    resource = {'labelSelector': copy.deepcopy(example['resource']['label_selector'])}
    if instance_type:
        resource['instanceType'] = instance_type
    return body(name=example['name'] + '-' + uuid.uuid4().hex[:4], resource=resource,
                inference={'preset': {'name': example['preset']['name']}})


def test_gpu_example_admitted_on_aks_with_auto_provisioning(k8s_client, namespace, kaito_admission):
    example = DEFAULTS['model_workspace_phi4_mini_gpu']
    instance_type = example['resource'].get('instance_type')
    assert instance_type, 'the GPU example names no instance type: KAITO refuses it on AKS (node auto-provisioning)'
    created = kaito.workspaces(k8s_client).create(body=gpu_example_workspace(instance_type), namespace=NS).to_dict()
    assert created['resource']['instanceType'] == instance_type
    assert kaito_admission.reviews[-1][2] is None


def test_gpu_example_refused_on_kind_where_no_node_matches_its_selector(bed, k8s_client, namespace, kaito_admission):
    watch = WriteWatch(bed)
    with kaito_admission.mode(node_auto_provisioning=False), pytest.raises(ApiException) as refused:
        kaito.workspaces(k8s_client).create(body=gpu_example_workspace(), namespace=NS)
    assert refused.value.status >= 400
    assert DENIED + 'No nodes found matching the specified label selector' in message(refused)
    assert watch.writes()['kubernetes'] == []


def test_update_of_an_immutable_field_refused(k8s_client, namespace, kaito_admission):
    api = kaito.workspaces(k8s_client)
    name = 'imm-' + uuid.uuid4().hex[:6]
    api.create(body=body(name=name, resource={'instanceType': A100, 'count': 1, 'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}}), namespace=NS)
    with pytest.raises(ApiException) as refused:
        api.patch(name=name, namespace=NS, content_type='application/merge-patch+json', body={'resource': {'count': 2}})
    assert refused.value.status >= 400 and 'field is immutable: resource.count' in message(refused)


def row(case_id, names, resource=None, **args):
    args = dict({'name': case_id, 'namespace': NS, 'wait': False,
                 'resource': {'instance_type': A100} if resource is None else resource}, **args)
    args['resource'] = dict({'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}}, **args['resource'])
    if 'preset' not in args and 'template' not in args and 'tuning' not in args:
        args['preset'] = {'name': 'phi-4-mini-instruct'}
    args.update(args.pop('_override', {}))
    return BadInput(case_id, 'kaito_workspace', args, names)


TEMPLATE = {'spec': {'containers': [{'name': 'm', 'image': 'example.invalid/m:1'}]}}
SKUS = 'Supported SKUs: ['
BAD = cases(
    row('no-instance-type', ('instanceType is required when node auto-provisioning is enabled', 'spec.resource.instanceType'),
        resource={'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}}),
    row('cpu-sku', ('Unsupported instance type Standard_F4s_v2', SKUS, 'resource.instanceType'), resource={'instance_type': 'Standard_F4s_v2'}),
    row('e-series-sku', ('Unsupported instance type Standard_E8s_v5', 'resource.instanceType'), resource={'instance_type': 'Standard_E8s_v5'}),
    row('b-series-sku', ('Unsupported instance type Standard_B2s', 'resource.instanceType'), resource={'instance_type': 'Standard_B2s'}),
    row('aws-sku', ('Unsupported instance type p4d.24xlarge', 'resource.instanceType'), resource={'instance_type': 'p4d.24xlarge'}),
    row('sku-typo', ('Unsupported instance type Standrd_NC24ads_A100_v4', 'resource.instanceType'),
        resource={'instance_type': 'Standrd_NC24ads_A100_v4'}),
    row('unknown-preset', ('Unsupported inference preset name phi-5-mini', 'inference.presetName'), preset={'name': 'phi-5-mini'}),
    row('hf-id-as-preset', ('Unsupported inference preset name microsoft/Phi-4-mini-instruct', 'inference.presetName'),
        preset={'name': 'microsoft/Phi-4-mini-instruct'}),
    row('base-image-as-preset', ('Unsupported inference preset name base', 'inference.presetName'), preset={'name': 'base'}),
    row('deprecated-preset', ('Model phi-2 is deprecated and no longer supported', 'resource.presetName'), preset={'name': 'phi-2'}),
    row('unknown-preset-with-inference-config', ('Unsupported inference preset name phi-5-mini', 'inference.presetName'),
        preset={'name': 'phi-5-mini'}, inference_config={'vllm': {'max-model-len': 4096}}),
    row('preset-typo', ('Unsupported inference preset name phi-4-mini-instuct', 'inference.presetName'), preset={'name': 'phi-4-mini-instuct'}),
    row('too-small-a10-transformers', ('Insufficient total GPU memory', 'Standard_NV36ads_A10_v5', 'preset phi-4', 'resource.instanceType'),
        resource={'instance_type': 'Standard_NV36ads_A10_v5'}, preset={'name': 'phi-4'}, runtime='transformers'),
    row('too-small-v620-transformers', ('Insufficient total GPU memory', 'Standard_NG32ads_V620_v1', 'qwen2.5-coder-32b-instruct'),
        resource={'instance_type': 'Standard_NG32ads_V620_v1'}, preset={'name': 'qwen2.5-coder-32b-instruct'}, runtime='transformers'),
    row('too-small-a100-transformers', ('Insufficient total GPU memory', 'has a total of 80Gi', 'llama-3.3-70b-instruct'),
        resource={'instance_type': A100}, preset={'name': 'llama-3.3-70b-instruct'}, runtime='transformers'),
    row('too-small-h100-transformers', ('Insufficient total GPU memory', 'has a total of 94Gi', 'gpt-oss-120b'),
        resource={'instance_type': 'Standard_NC40ads_H100_v5'}, preset={'name': 'gpt-oss-120b'}, runtime='transformers'),
    row('too-many-adapters', ('Number of Adapters exceeds the maximum limit, maximum of 10 allowed',),
        adapters=[{'name': 'a%d' % i, 'image': 'example.invalid/a%d:1' % i} for i in range(11)]),
    row('duplicate-adapter', ('Duplicate adapter source name found: a',),
        adapters=[{'name': 'a', 'image': 'example.invalid/a:1'}, {'name': 'a', 'image': 'example.invalid/b:1'}]),
    row('reserved-selector-only', ('matchLabels must contain at least one non-reserved label', 'resource.labelSelector.matchLabels'),
        resource={'instance_type': A100, 'label_selector': {'matchLabels': {'kaito.sh/workspace': 'other'}}}),
    row('reserved-karpenter-selector', ('matchLabels must contain at least one non-reserved label',),
        resource={'instance_type': A100, 'label_selector': {'matchLabels': {'karpenter.kaito.sh/workspace-name': 'x'}}}),
    row('selector-exists-operator', ('"Exists" is not a valid label selector operator', 'resource.labelSelector'),
        resource={'instance_type': A100, 'label_selector': {'matchExpressions': [{'key': 'apps', 'operator': 'Exists'}]}}),
    row('selector-notin-operator', ('"NotIn" is not a valid label selector operator', 'resource.labelSelector'),
        resource={'instance_type': A100, 'label_selector': {'matchExpressions': [{'key': 'apps', 'operator': 'NotIn', 'values': ['x']}]}}),
    row('selector-in-two-values', ('without a single value cannot be converted into the old label selector format', 'resource.labelSelector'),
        resource={'instance_type': A100, 'label_selector': {'matchExpressions': [{'key': 'apps', 'operator': 'In', 'values': ['a', 'b']}]}}),
    row('tuning-multinode', ('Tuning does not currently support multinode configurations', 'resource.count'),
        resource={'instance_type': A100, 'count': 2}, _override={'preset': None},
        tuning={'preset': {'name': 'phi-4-mini-instruct'}, 'method': 'qlora',
                'input': {'urls': ['https://example.invalid/d.parquet']}, 'output': {'image': 'example.invalid/o:1', 'imagePushSecret': 's'}}),
    row('partition-with-auto-provisioning', ('GPU partitioning is only supported with BYO nodes (disableNodeAutoProvisioning=true)',
                                             'resource.partition'),
        resource={'instance_type': A100, 'partition': {'mode': 'mig', 'profile': '1g.10gb'}}),
    row('template-without-instance-type', ('instanceType is required when node auto-provisioning is enabled',),
        resource={'label_selector': {'matchLabels': {'apps': 'm'}}}, template=TEMPLATE, _override={'preset': None}),
    row('template-on-l-series', ('Unsupported instance type Standard_L8s_v3', 'resource.instanceType'),
        resource={'instance_type': 'Standard_L8s_v3'}, template=TEMPLATE,
        _override={'preset': None}),
)


@pytest.mark.parametrize('case', BAD)
def test_refused_by_kaito_admission_before_writing(bed, namespace, kaito_admission, case):
    case.args = {k: v for k, v in case.args.items() if v is not None}
    result = refused_before_writing(bed, case)
    assert kaito_admission.reviews, 'refused by the module, not by KAITO admission: %s' % result.get('msg')
    assert kaito_admission.reviews[-1][2] is not None


BYO = cases(
    BadInput('byo-instance-type', 'kaito_workspace',
             {'name': 'byo-it', 'namespace': NS, 'wait': False, 'preset': {'name': 'phi-4-mini-instruct'},
              'resource': {'instance_type': A100, 'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}}},
             ('instanceType must be empty when node auto-provisioning is disabled (BYO scenario)', 'spec.resource.instanceType')),
    BadInput('byo-no-matching-node', 'kaito_workspace',
             {'name': 'byo-none', 'namespace': NS, 'wait': False, 'preset': {'name': 'phi-4-mini-instruct'},
              'resource': {'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}}},
             ('No nodes found matching the specified label selector',)),
)


@pytest.mark.parametrize('case', BYO)
def test_refused_by_kaito_admission_on_bring_your_own_nodes(bed, namespace, kaito_admission, case):
    with kaito_admission.mode(node_auto_provisioning=False):
        refused_before_writing(bed, case)
    assert kaito_admission.reviews and kaito_admission.reviews[-1][2] is not None


def test_check_mode_in_a_namespace_not_made_yet_asks_kaito_in_default(bed, k8s_client, namespace, kaito_admission):
    """Check mode cannot dry-run in a namespace that does not exist: the workspace is dry-run as a create in `default`
    (admitted, refused with KAITO's message), or, with a namesake there, the module warns; nothing is written."""
    missing = 'not-made-' + uuid.uuid4().hex[:6]
    args = {'name': 'phi-check', 'namespace': missing, 'wait': False, 'preset': {'name': 'phi-4-mini-instruct'},
            'resource': {'instance_type': A100, 'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}},
            'inference_config': 'vllm: {max-model-len: 4096}', 'pod_disruption_budget': {'max_unavailable': 1}}
    watch = WriteWatch(bed)
    admitted = call_module('kaito_workspace', args, env=bed.env(), check=True)
    assert admitted.get('changed') and not admitted.get('failed'), admitted.get('msg')
    assert [o['action'] for o in admitted['objects']] == ['created'] * 3
    assert kaito_admission.reviews[-1][:2] == ('CREATE', 'default/phi-check') and kaito_admission.reviews[-1][2] is None
    assert watch.writes()['kubernetes'] == []

    without_type = dict(args, resource={'label_selector': {'matchLabels': {'apps': 'llm-gpu'}}})
    refused = call_module('kaito_workspace', without_type, env=bed.env(), check=True)
    assert refused.get('failed') and 'phi-check' in refused['msg'] and 'instanceType is required' in refused['msg'], refused.get('msg')

    namesake_body = body('phi-check', resource={'instanceType': A100, 'labelSelector': {'matchLabels': {'apps': 'llm-gpu'}}})
    namesake_body['metadata'] = {'name': 'phi-check', 'namespace': 'default'}
    kaito.workspaces(k8s_client).create(body=namesake_body, namespace='default')
    try:
        watch = WriteWatch(bed)
        namesake = call_module('kaito_workspace', args, env=bed.env(), check=True)  # admitted, then AlreadyExists
        assert namesake.get('changed') and not namesake.get('failed'), namesake.get('msg')
        assert any('does not exist yet' in w and 'checked when the namespace exists' in w for w in warnings(namesake)), namesake
        assert watch.writes()['kubernetes'] == []
    finally:
        kaito.workspaces(k8s_client).delete(name='phi-check', namespace='default')

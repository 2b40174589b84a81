"""Bad input to the Kubernetes-side modules (k8s_apply, k8s_info, kaito_info, inference_probe): each is refused with a
message naming the option or field, without a traceback, and nothing is written to the test apiserver (its audit log)
or to ARM. Module calls in process, and one real playbook run where k8s_apply's action plugin renders a template."""

import uuid

import pytest

from tests.integration.refusals import BadInput, cases, refused_before_writing, role_refused_before_writing

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]  # names no earlier run has written
NOWHERE = 'http://127.0.0.1:9'  # discard port: a refused probe never sends anything
PROMPT = ['What is 2 + 2? Answer with the number only.']


def cm(name, namespace='default', **data):
    return {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': '%s-%s' % (name, RUN), 'namespace': namespace},
            'data': data or {'k': 'v'}}


def obj(**fields):
    base = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'x-' + RUN, 'namespace': 'default'}}
    base.update(fields)
    return base


GOOD = cm('good')  # every multi-object case starts with an object the server would take: it must not be written


def apply(case_id, names, **args):
    return BadInput(case_id, 'k8s_apply', args, names)


def info(case_id, names, **args):
    return BadInput(case_id, 'k8s_info', args, names)


def kaito_info(case_id, names, **args):
    return BadInput(case_id, 'kaito_info', args, names)


def probe(case_id, names, **args):
    args.setdefault('prompts', PROMPT)
    if 'service' not in args:
        args.setdefault('url', NOWHERE)
    return BadInput(case_id, 'inference_probe', args, names)


K8S_APPLY = cases(
    apply('definitions-a-number', ('definitions', 'got int 42'), definitions=42),
    apply('definitions-item-a-number', ('definitions item 2', 'got int'), definitions=[GOOD, 7]),
    apply('definitions-item-a-string-list', ('definitions item 2', 'object 1', 'must be a mapping, got str'), definitions=[GOOD, ['x']]),
    apply('no-kind', ('kind is required',), definitions=[GOOD, {'apiVersion': 'v1', 'metadata': {'name': 'x'}}]),
    apply('no-api-version', ('apiVersion is required',), definitions=[GOOD, {'kind': 'ConfigMap', 'metadata': {'name': 'x'}}]),
    apply('no-name', ('metadata.name is required',), definitions=[GOOD, obj(metadata={'namespace': 'default'})]),
    apply('no-metadata', ('metadata.name is required',), definitions=[GOOD, {'apiVersion': 'v1', 'kind': 'ConfigMap'}]),
    apply('name-a-number', ('metadata.name must be a string', 'int 42'), definitions=[GOOD, obj(metadata={'name': 42})]),
    apply('namespace-a-list', ('metadata.namespace must be a string',),
          definitions=[GOOD, obj(metadata={'name': 'x', 'namespace': ['default']})]),
    apply('kind-a-list', ('kind must be a string',), definitions=[GOOD, obj(kind=['ConfigMap'])]),
    apply('api-version-a-number', ('apiVersion must be a string',), definitions=[GOOD, obj(apiVersion=1)]),
    apply('metadata-a-string', ('metadata must be a mapping',), definitions=[GOOD, obj(metadata='x')]),
    apply('yaml-that-does-not-parse', ('cannot parse definitions as YAML',), definitions='kind: [unclosed'),
    apply('list-items-not-a-list', ('items of the List must be a list',),
          definitions=[{'apiVersion': 'v1', 'kind': 'List', 'items': 'x'}]),
    apply('unknown-kind', ('does not serve v1 Gizmo',), definitions=[GOOD, obj(kind='Gizmo')]),
    apply('unknown-group', ('does not serve nope.example.com/v1 ConfigMap',), definitions=[GOOD, obj(apiVersion='nope.example.com/v1')]),
    apply('cluster-scoped-with-namespace', ('Namespace', 'cluster-scoped'),
          definitions=[GOOD, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'n-' + RUN, 'namespace': 'default'}}]),
    apply('namespaced-without-namespace', ('set metadata.namespace or the namespace option',),
          definitions=[GOOD, obj(metadata={'name': 'x'})]),
    # the server refuses a later object: every object is dry-run before the first write
    apply('later-object-bad-data-key', ('ConfigMap default/bad-' + RUN, 'data[k y]'), definitions=[GOOD, cm('bad', **{'k y': 'v'})]),
    apply('later-object-bad-name', ('Bad_Name', 'metadata.name'), definitions=[GOOD, obj(metadata={'name': 'Bad_Name', 'namespace': 'default'})]),
    apply('later-object-wrong-field-type', ('Deployment default/d-' + RUN, 'replicas'),
          definitions=[GOOD, {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'd-' + RUN, 'namespace': 'default'},
                              'spec': {'replicas': 'two'}}]),
    apply('later-object-missing-namespace', ('namespaces "nowhere-%s" not found' % RUN,), definitions=[GOOD, cm('lost', 'nowhere-' + RUN)]),
    apply('later-object-label-a-number', ('ConfigMap default/x-' + RUN, 'labels'),
          definitions=[GOOD, obj(metadata={'name': 'x-' + RUN, 'namespace': 'default', 'labels': {'replicas': 2}})]),
    apply('later-secret-not-base64', ('Secret default/s-' + RUN, 'data'),
          definitions=[GOOD, {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 's-' + RUN, 'namespace': 'default'},
                              'data': {'key': 'not base64!'}}]),
    apply('namespace-option-not-a-name', ('namespace', 'Bad_NS'), definitions=[obj(metadata={'name': 'x-' + RUN})], namespace='Bad_NS'),
    apply('later-object-namespace-not-a-name', ('Bad_NS',), definitions=[GOOD, cm('x', 'Bad_NS')]),
    apply('field-manager-empty', ('field_manager',), definitions=[GOOD], field_manager=''),
    apply('src-missing', ('cannot read src', 'no-such-file'), src=['/nonexistent/no-such-file.yaml']),
    apply('src-a-directory', ('cannot read src', '/tmp'), src=['/tmp']),
    apply('prune-selector-syntax', ('prune.label_selector', 'app in x'), definitions=[GOOD], prune={'label_selector': 'app in x'}),
    apply('prune-selector-bad-key', ('prune.label_selector', 'is not a label key'), definitions=[GOOD], prune={'label_selector': 'a/b/c=1'}),
    apply('prune-kinds-without-version', ('prune.kinds', 'apiVersion/Kind'), definitions=[GOOD],
          prune={'label_selector': 'a=b', 'kinds': ['ConfigMap']}),
    apply('wait-timeout-negative', ('wait_timeout', '-1'), definitions=[GOOD], wait=True, wait_timeout=-1),
    apply('wait-sleep-zero', ('wait_sleep',), definitions=[GOOD], wait=True, wait_sleep=0),
    apply('wait-condition-status', ('status', 'wait_condition'), definitions=[GOOD], wait_condition={'type': 'Ready', 'status': 'Yes'}),
    apply('wait-condition-no-type', ('type', 'wait_condition'), definitions=[GOOD], wait_condition={'status': 'True'}),
    apply('state-unknown', ('state',), definitions=[GOOD], state='gone'),
    apply('kubeconfig-a-directory', ('kubeconfig', '/tmp', 'is not a file'), definitions=[GOOD], kubeconfig='/tmp'),
    apply('kubeconfig-missing', ('kubeconfig', 'does not exist'), definitions=[GOOD], kubeconfig='/nonexistent/kubeconfig'),
    apply('kubeconfig-not-a-mapping', ('kubeconfig /etc/hostname', 'is not a kubeconfig'), definitions=[GOOD], kubeconfig='/etc/hostname'),
    apply('context-unknown', ('no-such-context',), definitions=[GOOD], context='no-such-context'),
    apply('host-unreachable', ('cannot reach the Kubernetes API server https://127.0.0.1:9', 'host'), definitions=[GOOD],
          host='https://127.0.0.1:9', api_key='not-a-real-token'),
    apply('validate-crds-missing', ('/nonexistent/crd.yaml',), definitions=[GOOD], validate={'crds': ['/nonexistent/crd.yaml']}),
    apply('validate-version-not-a-version', ('validate.version', 'banana'), definitions=[GOOD], validate={'version': 'banana'}),
)

K8S_INFO = cases(
    info('unknown-kind', ('kind Gizmo', 'allow_missing'), kind='Gizmo'),
    info('unknown-api-version', ('nope.example.com/v1',), api_version='nope.example.com/v1', kind='Widget'),
    info('kind-lowercase', ("kind 'configmap'",), kind='configmap'),
    info('api-version-three-parts', ('api_version', 'a/b/c'), api_version='a/b/c', kind='Node'),
    info('label-selector-syntax', ('label_selectors', 'app in x'), kind='Node', label_selectors=['app in x']),
    info('label-selector-empty-item', ('label_selectors item 1 is empty',), kind='Node', label_selectors=['']),
    info('field-selector-unknown-field', ('field_selectors', 'spec.nothing'), kind='Pod', namespace='default',
         field_selectors=['spec.nothing=x']),
    info('kubeconfig-a-directory', ('kubeconfig', 'is not a file'), kind='Node', kubeconfig='/tmp'),
    info('host-unreachable', ('cannot reach the Kubernetes API server http://127.0.0.1:9',), kind='Node', host='http://127.0.0.1:9'),
)

KAITO_INFO = cases(
    kaito_info('wait-timeout-negative', ('wait_timeout', '-1'), wait=True, wait_timeout=-1),
    kaito_info('wait-sleep-negative', ('wait_sleep',), wait=True, wait_sleep=-2),
    kaito_info('absent-timeout-negative', ('absent_timeout must not be negative', '-5'), wait=True, absent_timeout=-5),
    kaito_info('crds-item-not-a-crd-name', ('crds item', "'workspaces'"), crds=['workspaces']),
    kaito_info('api-version-without-version', ('api_version', 'kaito.sh'), api_version='kaito.sh'),
    kaito_info('namespace-empty', ('namespace must not be empty',), namespace=''),
    kaito_info('kubeconfig-a-directory', ('kubeconfig', 'is not a file'), kubeconfig='/tmp'),
)

INFERENCE_PROBE = cases(
    probe('expect-not-a-regex', ('prompts item 1 expect', 'not a regular expression'), prompts=[{'prompt': 'hi', 'expect': '(('}]),
    probe('timeout-negative', ('timeout', '-1'), timeout=-1),
    probe('timeout-zero', ('timeout must be more than 0',), timeout=0),
    probe('retries-negative', ('retries',), retries=-1),
    probe('retry-delay-negative', ('retry_delay',), retry_delay=-5),
    probe('max-tokens-zero', ('max_tokens',), max_tokens=0),
    probe('temperature-negative', ('temperature',), temperature=-0.5),
    probe('prompts-empty', ('prompts is empty',), prompts=[]),
    probe('prompts-item-a-number', ('prompts item 1',), prompts=[42]),
    probe('prompts-item-without-prompt', ('prompts item 1 has no prompt',), prompts=[{'expect': 'x'}]),
    probe('prompts-item-unknown-key', ("prompts item 1 has an unknown key 'expected'", 'did you mean expect'),
          prompts=[{'prompt': 'hi', 'expected': '4'}]),
    probe('prompts-item-max-tokens-a-word', ('prompts item 1 max_tokens must be of type int',), prompts=[{'prompt': 'hi', 'max_tokens': 'many'}]),
    probe('prompts-item-temperature-negative', ('prompts item 2 temperature',), prompts=['hi', {'prompt': 'hi', 'temperature': -1}]),
    probe('header-name-with-a-space', ('headers name', 'X Api Key'), headers={'X Api Key': 'k'}),
    probe('header-value-with-a-newline', ('headers X-Api-Key', 'line break'), headers={'X-Api-Key': 'k\nInjected: 1'}),
    probe('header-value-a-mapping', ('headers X-Api-Key must be a string',), headers={'X-Api-Key': {'k': 'v'}}),
    probe('header-value-emoji', ('headers X-Note', 'ISO-8859-1'), headers={'X-Note': 'hi \U0001F600'}),
    probe('url-not-http', ('url', 'ftp://127.0.0.1/x'), url='ftp://127.0.0.1/x'),
    probe('url-without-host', ('url', 'http://'), url='http://'),
    probe('url-and-service', ('url', 'service'), url=NOWHERE, service='chat', namespace='default'),
    probe('service-without-namespace', ('namespace', 'service'), url=None, service='chat'),
    probe('service-port-out-of-range', ('service_port 70000',), url=None, service='chat', namespace='default', service_port='70000'),
    probe('service-port-bad-name', ('service_port', 'Bad_Port'), url=None, service='chat', namespace='default', service_port='Bad_Port'),
    probe('chat-path-relative', ('chat_path',), api='chat', chat_path='chat'),
    probe('api-unknown', ('api', 'grpc'), api='grpc'),
    probe('url-ca-cert-missing', ('url_ca_cert', '/nonexistent/ca.pem'), url='https://127.0.0.1:9', url_ca_cert='/nonexistent/ca.pem'),
    probe('url-ca-cert-not-pem', ('url_ca_cert', '/etc/hostname'), url='https://127.0.0.1:9', url_ca_cert='/etc/hostname'),
    probe('kubeconfig-a-directory', ('kubeconfig', 'is not a file'), url=None, service='chat', namespace='default', kubeconfig='/tmp'),
)


@pytest.mark.parametrize('case', K8S_APPLY + K8S_INFO + KAITO_INFO + INFERENCE_PROBE)
def test_refused_before_writing(bed, case):
    case.args = {k: v for k, v in case.args.items() if v is not None}
    refused_before_writing(bed, case)


def test_a_template_whose_later_object_the_server_refuses_writes_nothing(bed):
    """Through the action plugin: the rendered set is dry-run whole before the first write."""
    names = ['ok-%s' % RUN, 'Bad_Name']
    role_refused_before_writing(bed, 'k8s_apply.yml', {
        'component_namespace': 'default',
        'templates': [{'path': 'configmaps.yaml.j2', 'vars': {'configmap_names': names, 'greeting': 'hi'}}]}, ('Bad_Name',))

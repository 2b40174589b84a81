"""Bad input to the Kubernetes-side roles (model_workspace, kaito): real ansible-playbook runs, each refused with a
message naming the variable, the item or KAITO's rule, with nothing written to the test apiserver (its audit log).
The models are judged by the strict KAITO admission stand-in (tests/integration/kaito_admission.py)."""

import uuid
from pathlib import Path

import pytest

from tests.integration import kaito_standin as kaito
from tests.integration.refusals import role_refused_before_writing

pytestmark = pytest.mark.integration

CRDS = Path(__file__).parent.parent / 'crds'
BLOOMZ = "{{ model_workspace_bloomz_cpu | combine({'namespace': test_namespace}) }}"
PHI = "{{ model_workspace_phi4_mini_gpu | combine({'namespace': test_namespace}) }}"


@pytest.fixture(scope='module')
def crds(k8s_client):
    return kaito.install_crds(k8s_client, [CRDS / 'kaito' / 'kaito.sh_workspaces.yaml',
                                           CRDS / 'gateway-api' / 'v1.2.1' / 'gateway.networking.k8s.io_httproutes.yaml.gz'])


def models(bed, variables, names):
    """The model_workspace role with `variables`, in a namespace no run has made; it must fail naming `names`."""
    variables = dict({'test_namespace': 'bad-' + uuid.uuid4().hex[:8], 'model_workspace_wait': False}, **variables)
    return role_refused_before_writing(bed, 'model_workspace_role.yml', variables, names)


@pytest.mark.parametrize('variables, names', [
    pytest.param({'model_workspace_pod_security': {'enforce': 'strict'}},
                 ('model_workspace_pod_security', 'enforce', 'strict', 'privileged, baseline, restricted'), id='pod-security-level'),
    pytest.param({'model_workspace_pod_security': {'enfore': 'restricted'}},
                 ('model_workspace_pod_security', 'enfore'), id='pod-security-mode'),
    pytest.param({'model_workspace_models': ["{{ model_workspace_bloomz_cpu | combine({'namespace': test_namespace, 'presett': {}}) }}"]},
                 ('model_workspace_models.presett', 'Supported parameters include', 'preset'), id='model-typo-key'),
    pytest.param({'model_workspace_models': [{'namespace': 'x', 'resource': {'count': 1}}]},
                 ('missing required arguments: name found in model_workspace_models',), id='model-without-name'),
    pytest.param({'model_workspace_routes': [{'name': 'chat', 'namespace': 'x', 'parent_refs': [{'name': 'gw'}], 'backend': []}]},
                 ('model_workspace_routes.backend', 'Supported parameters include', 'backends'), id='route-typo-key'),
    pytest.param({'model_workspace_models': [BLOOMZ], 'model_workspace_routes': [
                  {'name': 'chat', 'namespace': '{{ test_namespace }}', 'backends': [{'workspace': 'bloomz-workspace', 'weight': 2000000}]}]},
                 ('model_workspace_routes[chat].backends[0].weight must be a whole number from 0 to 1000000, got 2000000',), id='route-weight'),
    pytest.param({'model_workspace_models': [BLOOMZ], 'model_workspace_routes': [
                  {'name': 'chat', 'namespace': '{{ test_namespace }}', 'backends': [{'workspace': 'llama-3'}]}]},
                 ('model_workspace_routes[chat].backends[0].workspace llama-3 is not a model of model_workspace_models',), id='route-to-no-model'),
    pytest.param({'model_workspace_models': [BLOOMZ, "{{ model_workspace_bloomz_cpu | combine({'namespace': test_namespace, "
                                                     "'name': 'broken-config', 'inference_config': 'vllm: [unclosed'}) }}"]},
                 ('/broken-config) Invalid input: inference_config is not valid YAML', 'line 1, column 16'), id='inference-config-does-not-parse'),
])
def test_model_workspace_input_is_refused_before_writing(bed, crds, kaito_admission, variables, names):
    models(bed, variables, names)


def test_a_model_kaito_refuses_in_a_new_namespace_leaves_nothing_behind(bed, crds, kaito_admission):
    """The CPU example would be admitted, the GPU example without an instance type is not (node auto-provisioning on, as
    on AKS): the namespace does not exist yet, and neither it nor the CPU example's workspace is written."""
    gpu_without_instance_type = ("{{ model_workspace_phi4_mini_gpu | combine({'namespace': test_namespace, "
                                 "'resource': {'instance_type': ''}}, recursive=true) }}")
    models(bed, {'model_workspace_models': [BLOOMZ, gpu_without_instance_type]},
           ('phi-4-mini', 'kaito-admission-standin.kaito.sh', 'instanceType is required when node auto-provisioning is enabled'))


def test_the_gpu_example_is_refused_by_kaito_on_bring_your_own_nodes(bed, crds, kaito_admission):
    """kind (KAITO's disableNodeAutoProvisioning): no node carries apps=llm-gpu, so KAITO refuses the GPU example, and
    nothing is written."""
    with kaito_admission.mode(node_auto_provisioning=False):
        models(bed, {'model_workspace_models': ["{{ model_workspace_phi4_mini_gpu | combine({'namespace': test_namespace, "
                                                "'resource': {'instance_type': ''}}, recursive=true) }}"]},
               ('kaito-admission-standin.kaito.sh', 'No nodes found matching the specified label selector'))


@pytest.mark.parametrize('variables, names', [
    pytest.param({'kaito_pod_security': {'warn': 'high'}}, ('kaito_pod_security', 'warn', 'high'), id='pod-security-level'),
])
def test_kaito_role_input_is_refused_before_writing(bed, variables, names):
    role_refused_before_writing(bed, 'kaito_role.yml', variables, names)

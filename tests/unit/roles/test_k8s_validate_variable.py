"""The shared role variable k8s_validate: every k8s_apply task of a role passes it, and each such role declares it with
the options of k8s_apply's validate option (VALIDATE_ARG_SPEC), so the role refuses what the module would refuse."""

from pathlib import Path

import yaml

from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.validate import VALIDATE_ARG_SPEC

ROLES = Path(__file__).resolve().parents[3] / 'roles'
PASSED = '{{ k8s_validate | default(omit) }}'


def tasks(items):
    """Every task of a task list, blocks opened."""
    for task in items or []:
        if 'block' in task:
            for part in ('block', 'rescue', 'always'):
                yield from tasks(task.get(part))
        else:
            yield task


def k8s_apply_tasks():
    """(role, file, task name, arguments) of every aiplatform.aks.k8s_apply task in the roles."""
    for path in sorted(ROLES.glob('*/tasks/*.yml')):
        for task in tasks(yaml.safe_load(path.read_text())):
            if 'aiplatform.aks.k8s_apply' in task:
                yield path.parents[1].name, path.name, task['name'], task['aiplatform.aks.k8s_apply']


def test_every_k8s_apply_task_of_a_role_passes_k8s_validate():
    found = list(k8s_apply_tasks())
    # a deletion validates nothing (k8s_apply does not use validate with state absent)
    assert [(role, name) for role, _file, name, args in found if args.get('validate') != PASSED and args.get('state') != 'absent'] == []
    assert sorted(set(role for role, _f, _n, _a in found)) == ['ai_scheduling', 'gpu_operator', 'istio', 'kaito', 'model_workspace', 'prometheus_monitoring']


def test_each_of_those_roles_declares_it_with_the_options_of_the_module():
    wanted = dict((name, dict((k, v) for k, v in option.items() if k in ('type', 'default', 'elements')))
                  for name, option in VALIDATE_ARG_SPEC['validate']['options'].items())
    for role in sorted(set(role for role, _f, _n, _a in k8s_apply_tasks())):
        spec = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']['main']['options']['k8s_validate']
        assert spec['type'] == 'dict' and not spec.get('required'), role
        declared = dict((name, dict((k, v) for k, v in option.items() if k in ('type', 'default', 'elements')))
                        for name, option in spec['options'].items())
        assert declared == wanted, role

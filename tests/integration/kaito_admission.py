"""The rules of the KAITO admission stand-in: KAITO v0.12's Workspace (kaito.sh/v1beta1) validation, as plain Python.

``review(workspace, old=None, node_auto_provisioning=True, nodes=())`` returns the message KAITO's validating webhook
would deny the request with (knative's FieldError text: ``message: field.path`` lines, merged by message and sorted),
or None when KAITO would admit it. It holds no server and is unit-tested on its own
(tests/unit/bed/test_kaito_admission.py); tests/integration/kaito_standin.py serves it as an admission webhook.

Facts taken from KAITO v0.12.0 (api/v1beta1/workspace_validation.go, labels.go, pkg/sku/azure_sku_handler.go,
presets/workspace/models/supported_models.yaml, the generated model catalogue for model sizes); the code is ours.

The mode is a setting, as KAITO's feature gate ``disableNodeAutoProvisioning`` is a setting of its controller:

- ``node_auto_provisioning=True`` (the AKS add-on's default): ``resource.instanceType`` is required and must be a
  GPU SKU KAITO knows (KAITO on Azure also lets through other ``Standard_N``/``Standard_D`` names); with the
  Hugging Face Transformers runtime the SKU's GPU memory times ``count`` must hold the preset's weights.
- ``node_auto_provisioning=False`` (bring-your-own nodes, e.g. kind): ``instanceType`` must be empty, and for a
  preset the label selector must match at least one of ``nodes`` (Node objects as dicts), which must carry the
  nvidia.com GPU labels; their GPU memory must hold the preset.

Not mirrored (no part of the examples we ship): tuning specs beyond presence, partitions, MIG, model streaming,
node classes, the inference ConfigMap's contents, adapters' strength and images.
"""

from __future__ import annotations

import re

STANDIN = 'KAITO admission stand-in on the test bed'

# pkg/sku/azure_sku_handler.go (v0.12.0): SKU -> (GPU count, GPU memory in GiB for the whole machine).
AZURE_GPU_SKUS = {
    'Standard_NV36ads_A10_v5': (1, 24), 'Standard_NV72ads_A10_v5': (2, 48),
    'Standard_NC24ads_A100_v4': (1, 80), 'Standard_NC48ads_A100_v4': (2, 160), 'Standard_NC96ads_A100_v4': (4, 320),
    'Standard_ND96asr_A100_v4': (8, 320), 'Standard_ND96amsr_A100_v4': (8, 640),
    'Standard_NC40ads_H100_v5': (1, 94), 'Standard_NC80adis_H100_v5': (2, 188), 'Standard_ND96isr_H100_v5': (8, 640),
    'Standard_NCC40ads_H100_v5': (1, 94), 'Standard_ND96isr_H200_v5': (8, 1128),
    'Standard_NG32ads_V620_v1': (1, 32), 'Standard_NG32adms_V620_v1': (1, 32),
}
AZURE_SKU_PREFIXES = ('standard_n', 'standard_d')

# supported_models.yaml (v0.12.0) preset names -> model weights in GiB (model catalogue's modelFileSize; None:
# not in the catalogue, so KAITO skips the memory check).
PRESETS = {
    'llama-3.1-8b-instruct': 14.96, 'llama-3.3-70b-instruct': 131.42, 'deepseek-r1-0528': 641.30,
    'deepseek-v3-0324': 641.30, 'falcon-7b': None, 'falcon-7b-instruct': None, 'falcon-40b': None,
    'falcon-40b-instruct': None, 'mistral-7b': None, 'mistral-7b-instruct': None, 'ministral-3-3b-instruct': None,
    'ministral-3-8b-instruct': None, 'ministral-3-14b-instruct': None, 'mistral-large-3-675b-instruct': None,
    'phi-3-mini-4k-instruct': 7.12, 'phi-3-mini-128k-instruct': 7.12, 'phi-3-medium-4k-instruct': 26.00,
    'phi-3-medium-128k-instruct': 26.00, 'phi-3.5-mini-instruct': 7.12, 'phi-4-mini-instruct': 7.15, 'phi-4': 27.31,
    'qwen2.5-coder-7b-instruct': 14.19, 'qwen2.5-coder-32b-instruct': 61.03, 'deepseek-r1-distill-qwen-14b': 27.51,
    'deepseek-r1-distill-llama-8b': 14.96, 'gemma-3-4b-instruct': None, 'gemma-3-27b-instruct': None,
    'gpt-oss-20b': 25.63, 'gpt-oss-120b': 121.54,
}
DEPRECATED_PRESETS = ('phi-2',)
MAX_ADAPTERS = 10
RUNTIME_ANNOTATION = 'kaito.sh/runtime'
BYPASS_ANNOTATION = 'kaito.sh/bypass-resource-checks'
RESERVED_SELECTOR_KEYS = frozenset((
    'kaito.sh/workspace', 'kaito.sh/ragengine', 'kaito.sh/workspacenamespace', 'kaito.sh/ragenginenamespace',
    'karpenter.kaito.sh/workspace-name', 'karpenter.kaito.sh/workspace-namespace', 'karpenter.kaito.sh/inferenceset',
    'karpenter.kaito.sh/inferenceset-namespace'))
NO_NODES = 'No nodes found matching the specified label selector'
DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')


class FieldErrors:
    """knative's apis.FieldError, as far as its printed text goes: (message, paths, details) entries."""

    def __init__(self):
        self.items = []

    def add(self, message, *paths, details=''):
        self.items.append((message, list(paths), details))
        return self

    def invalid(self, value, path):  # apis.ErrInvalidValue
        return self.add('invalid value: %s' % value, path)

    def missing(self, *paths):  # apis.ErrMissingField
        return self.add('missing field(s)', *paths)

    def generic(self, message, *paths):  # apis.ErrGeneric
        return self.add(message, *paths)

    def also(self, other, *prefix):
        """Merge ``other`` with its paths under ``prefix`` (ViaField)."""
        for message, paths, details in other.items:
            self.items.append((message, [flatten(list(prefix) + [p]) for p in paths], details))
        return self

    def __bool__(self):
        return bool(self.items)

    def text(self):
        merged = {}
        for message, paths, details in self.items:
            merged.setdefault((message, details), set()).update(paths)
        lines = []
        for (message, details), paths in sorted(merged.items()):
            line = '%s: %s' % (message, ', '.join(sorted(paths)))
            lines.append(line + ('\n' + details if details else ''))
        return '\n'.join(lines)


def flatten(parts):
    out = ''
    for part in parts:
        if not part:
            continue
        out = part if not out else (out + part if part.startswith('[') else out + '.' + part)
    return out


def dns1123_label_problems(name):
    """validation.IsDNS1123Label's messages."""
    problems = []
    if len(name) > 63:
        problems.append('must be no more than 63 characters')
    if not DNS1123_LABEL.match(name):
        problems.append("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                        "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    return problems


def selector_as_map(selector):
    """metav1.LabelSelectorAsMap: matchLabels plus single-valued ``In`` expressions; (map, error)."""
    if not selector:
        return {}, None
    out = dict(selector.get('matchLabels') or {})
    for expr in selector.get('matchExpressions') or []:
        operator = expr.get('operator')
        if operator != 'In':
            return None, '%s is not a valid label selector operator' % _go_quote(operator)
        values = expr.get('values') or []
        if len(values) != 1:
            return None, 'operator %s without a single value cannot be converted into the old label selector format' % _go_quote(operator)
        out[expr.get('key')] = values[0]
    return out, None


def _go_quote(value):
    return '"%s"' % ('' if value is None else str(value).replace('\\', '\\\\').replace('"', '\\"'))


def sanitized_match_labels(selector):
    labels = dict((selector or {}).get('matchLabels') or {})
    return dict((k, v) for k, v in labels.items() if k not in RESERVED_SELECTOR_KEYS)


def runtime_of(ws):
    value = ((ws.get('metadata') or {}).get('annotations') or {}).get(RUNTIME_ANNOTATION)
    return 'transformers' if value == 'transformers' else 'vllm'


def quantity_gi(gib):
    """resource.Quantity's String() of a BinarySI amount of GiB (whole or fractional)."""
    if float(gib).is_integer():
        return '%dGi' % int(gib)
    return '%.2fGi' % gib  # the catalogue's own spelling (Go would print the parsed amount canonically)


def supported_skus_text():
    return '[%s]' % ' '.join(sorted(AZURE_GPU_SKUS))


def node_gpu(node):
    """(gpu model, count, memory GiB) from the nvidia.com labels, or an error (sku.GetGPUConfigFromNodeLabels)."""
    name = node['metadata']['name']
    labels = node['metadata'].get('labels') or {}
    product, count, memory = (labels.get('nvidia.com/gpu.' + k) for k in ('product', 'count', 'memory'))
    if product is None or count is None or memory is None:
        return None, 'missing required nvidia.com labels on node %s' % name
    if not count.isdigit() or int(count) <= 0:
        return None, 'invalid nvidia.com/gpu.count value on node %s: %s' % (name, count)
    if not memory.isdigit() or int(memory) <= 0:
        return None, 'invalid nvidia.com/gpu.memory value on node %s: %s' % (name, memory)
    return (product, int(count), int(count) * int(memory) / 1024.0), None


def matches(node, labels):
    node_labels = node['metadata'].get('labels') or {}
    return all(node_labels.get(k) == v for k, v in labels.items())


def validate_resource_create(ws, nap, nodes):
    errs = FieldErrors()
    resource = ws.get('resource') or {}
    inference = ws.get('inference') or {}
    preset = (inference.get('preset') or {}).get('name')
    preset_name = str(preset).lower() if preset else ''
    if preset is not None and preset_name not in PRESETS:
        if preset_name in DEPRECATED_PRESETS:
            errs.generic('Model %s is deprecated and no longer supported' % preset_name, 'presetName')
        return errs
    _map, problem = selector_as_map(resource.get('labelSelector'))
    if problem:
        return errs.invalid(problem, 'labelSelector')
    match_labels = (resource.get('labelSelector') or {}).get('matchLabels') or {}
    if match_labels and not sanitized_match_labels(resource.get('labelSelector')):
        return errs.invalid('matchLabels must contain at least one non-reserved label', 'labelSelector.matchLabels')
    instance_type = resource.get('instanceType') or ''
    gpu = None  # (count of machines, GiB per machine)
    if not nap:
        if resource.get('partition') is not None:
            return errs
        if preset_name:
            selected = [n for n in nodes if matches(n, sanitized_match_labels(resource.get('labelSelector')))]
            if not selected:
                return errs.generic(NO_NODES)
            first = None
            for node in selected:
                config, problem = node_gpu(node)
                if problem:
                    return errs.generic('Failed to get GPU config from nvidia labels on node %s: %s' % (node['metadata']['name'], problem))
                if first is None:
                    first = config
                elif config[0] != first[0]:
                    return errs.generic('Non-uniform GPU product: node %s has %s GPUs, but previous node has %s GPUs, all nodes '
                                        'must have the same GPU product for homogeneous placement' % (node['metadata']['name'], config[0], first[0]))
                elif config[1] != first[1]:
                    return errs.generic('Non-uniform GPU count: node %s has %d GPUs, but previous node has %d GPUs'
                                        % (node['metadata']['name'], config[1], first[1]))
            gpu = (len(selected), first[2])
    else:
        if resource.get('partition') is not None:
            return errs.generic('GPU partitioning is only supported with BYO nodes (disableNodeAutoProvisioning=true)', 'partition')
        count = resource.get('count')
        machines = 1 if count is None else count
        known = next((v for k, v in AZURE_GPU_SKUS.items() if k.lower() == instance_type.lower()), None)
        if known is None:
            if not instance_type.lower().startswith(AZURE_SKU_PREFIXES):
                errs.invalid('Unsupported instance type %s. Supported SKUs: %s' % (instance_type, supported_skus_text()), 'instanceType')
        else:
            gpu = (machines, known[1])
    if preset_name and gpu is not None and (not nap or runtime_of(ws) != 'vllm'):
        needed = PRESETS.get(preset_name)
        bypass = BYPASS_ANNOTATION in ((ws.get('metadata') or {}).get('annotations') or {})
        if needed is not None and gpu[0] * gpu[1] < needed and not bypass:
            errs.invalid('Insufficient total GPU memory: Instance type %s has a total of %s, but preset %s requires at least %s'
                         % (instance_type, quantity_gi(gpu[0] * gpu[1]), preset_name, quantity_gi(needed)), 'instanceType')
    return errs


def validate_inference_create(inference):
    errs = FieldErrors()
    preset, template = inference.get('preset'), inference.get('template')
    if preset is None and template is None:
        errs.missing('Preset or Template must be specified')
    if preset is not None and template is not None:
        errs.generic('Preset and Template cannot be set at the same time')
    if preset is not None:
        name = str(preset.get('name') or '')
        if name.lower() not in PRESETS:
            return errs.invalid('Unsupported inference preset name %s' % name, 'presetName')
    adapters = inference.get('adapters') or []
    if len(adapters) > MAX_ADAPTERS:
        errs.generic('Number of Adapters exceeds the maximum limit, maximum of %d allowed' % MAX_ADAPTERS)
    seen = set()
    for adapter in adapters:
        name = ((adapter or {}).get('source') or {}).get('name')
        if name in seen:
            errs.generic('Duplicate adapter source name found: %s' % name)
        seen.add(name)
    return errs


def validate_create(ws, nap, nodes):
    errs = FieldErrors()
    spec = FieldErrors()
    inference, tuning = ws.get('inference'), ws.get('tuning')
    if inference is None and tuning is None:
        spec.generic('Either Inference or Tuning must be specified, not neither', '')
    if inference is not None and tuning is not None:
        spec.generic('Either Inference or Tuning must be specified, but not both', '')
    instance_type = (ws.get('resource') or {}).get('instanceType') or ''
    if not nap and instance_type:
        spec.invalid('instanceType must be empty when node auto-provisioning is disabled (BYO scenario)', 'resource.instanceType')
    if nap and not instance_type:
        spec.missing('instanceType is required when node auto-provisioning is enabled', 'resource.instanceType')
    errs.also(spec, 'spec')
    if inference is not None:
        errs.also(validate_resource_create(ws, nap, nodes), 'resource')
        errs.also(validate_inference_create(inference), 'inference')
    if tuning is not None:
        count = (ws.get('resource') or {}).get('count')
        if count is not None and count != 1:
            errs.invalid('Tuning does not currently support multinode configurations. Please set the node count to 1. '
                         'Future support with DeepSpeed will allow this.', 'resource.count')
    return errs


def validate_update(ws, old, nap):
    errs = FieldErrors()
    if (old.get('inference') is None) != (ws.get('inference') is None):
        errs.generic('Inference field cannot be toggled once set', 'spec.inference')
    if (old.get('tuning') is None) != (ws.get('tuning') is None):
        errs.generic('Tuning field cannot be toggled once set', 'spec.tuning')
    new_r, old_r = ws.get('resource') or {}, old.get('resource') or {}
    res = FieldErrors()
    if new_r.get('count') is not None and old_r.get('count') is not None and new_r['count'] != old_r['count']:
        res.generic('field is immutable', 'count')
    if new_r.get('partition') != old_r.get('partition'):
        res.generic('field is immutable', 'partition')
    new_it, old_it = new_r.get('instanceType') or '', old_r.get('instanceType') or ''
    if not nap:
        if not old_it and new_it:
            res.invalid('instanceType must be empty when node auto-provisioning is disabled (BYO scenario)', 'instanceType')
        elif old_it and new_it and old_it != new_it:
            res.invalid('instanceType cannot be changed once set', 'instanceType')
    elif not new_it:
        res.missing('instanceType is required when node auto-provisioning is enabled', 'instanceType')
    elif old_it and old_it != new_it:
        res.generic('instanceType cannot be changed once set when node auto-provisioning is enabled', 'instanceType')
    new_map, e0 = selector_as_map(new_r.get('labelSelector'))
    old_map, e1 = selector_as_map(old_r.get('labelSelector'))
    if e0 or e1:
        res.generic("Only allow matchLabels or 'IN' matchExpression", 'labelSelector')
    elif new_map != old_map:
        res.generic('field is immutable', 'labelSelector')
    errs.also(res, 'resource')
    new_i, old_i = ws.get('inference'), old.get('inference')
    if new_i is not None and old_i is not None:
        inf = FieldErrors()
        if new_i.get('preset') != old_i.get('preset'):
            inf.generic('field is immutable', 'preset')
        if (new_i.get('template') is None) != (old_i.get('template') is None):
            inf.generic('field cannot be unset/set if it was set/unset', 'template')
        seen = set()
        for adapter in new_i.get('adapters') or []:
            name = ((adapter or {}).get('source') or {}).get('name')
            if name in seen:
                inf.generic('Duplicate adapter source name found: %s' % name)
            seen.add(name)
        errs.also(inf, 'inference')
    return errs


def review(ws, old=None, node_auto_provisioning=True, nodes=()):
    """KAITO's denial text for creating ``ws`` (or updating ``old`` to ``ws``), or None if KAITO admits it."""
    errs = FieldErrors()
    problems = dns1123_label_problems((ws.get('metadata') or {}).get('name') or '')
    if problems:
        errs.invalid(', '.join(problems), 'name')
    if old is None:
        errs.also(validate_create(ws, node_auto_provisioning, list(nodes)))
    else:
        errs.also(validate_update(ws, old, node_auto_provisioning))
    return errs.text() if errs else None

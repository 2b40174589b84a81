#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: inference_probe
short_description: Send prompts to a served model and report each answer and its latency
version_added: 0.1.0
description:
  - Sends each prompt of O(prompts) to a model server and reports the answer, the time to the first byte, the total
    time and, where the server reports them, the token counts.
  - Speaks the OpenAI-compatible API (C(GET /v1/models), C(POST /v1/chat/completions); vLLM's API and KAITO's
    default), or the older C(/chat) API of KAITO's transformers runtime, which takes C(prompt), C(return_full_text)
    and C(generate_kwargs) and answers with a JSON object whose C(Result) is the text.
  - By default the request goes through the Kubernetes API server's service proxy to the Service O(service) (KAITO
    names it after the workspace), with the same credentials as the other Kubernetes modules. No port-forward is
    needed, and RBAC applies (the caller needs C(get) and C(create) on C(services/proxy)). With O(url) the module
    talks to that URL instead, for example the Istio ingress gateway.
  - Fails with a message naming each failed prompt on an HTTP status other than 200, an empty answer, an answer that
    does not match the prompt's C(expect), or no answer within O(timeout) seconds (unless O(fail_on_error=false)).
  - Changes nothing, so it reports C(changed=false); it also sends the prompts in check mode.
options:
  url:
    description: Base URL of the model server (the API paths are appended). Mutually exclusive with O(service).
    type: str
  service:
    description: Service to reach through the API server's service proxy, in O(namespace).
    type: str
    aliases: [workspace]
  namespace:
    description: Namespace of O(service).
    type: str
  service_port:
    description: Port of O(service), a number or a port name. KAITO's Service listens on 80 (C(http)).
    type: str
    default: '80'
  service_scheme:
    description: Scheme the API server uses to talk to O(service).
    type: str
    choices: [http, https]
    default: http
  api:
    description: C(openai) for C(/v1/chat/completions); C(chat) for the transformers runtime's C(/chat) API.
    type: str
    choices: [openai, chat]
    default: openai
  prompts:
    description:
      - Prompts to send, in order. Each is a string, or a mapping with C(prompt) and optional C(expect) (a regular
        expression the answer must match, case-insensitive), C(max_tokens), C(temperature), C(system_prompt)
        (C(openai)) or C(generate_kwargs) (C(chat), merged over O(generate_kwargs)).
    type: list
    elements: raw
    required: true
  model:
    description: Model name for C(openai). Default is the first model C(/v1/models) lists.
    type: str
  system_prompt:
    description: System message sent before each prompt (C(openai)).
    type: str
  max_tokens:
    description: Maximum tokens per answer (C(openai)).
    type: int
    default: 64
  temperature:
    description: Sampling temperature (C(openai)); 0 answers deterministically.
    type: float
    default: 0.0
  stream:
    description:
      - Ask for a server-sent event stream (C(openai)), so that C(ttft_seconds) reports the time to the first token.
        Without streaming the server sends its headers with the whole answer, and the time to the first byte is
        close to the total time.
    type: bool
    default: false
  chat_path:
    description: Path of the C(chat) API.
    type: str
    default: /chat
  generate_kwargs:
    description: C(generate_kwargs) of the C(chat) API (Hugging Face generation parameters).
    type: dict
    default: {max_length: 64, do_sample: false}
  return_full_text:
    description: C(return_full_text) of the C(chat) API; false returns only the generated text.
    type: bool
    default: false
  headers:
    description:
      - Extra HTTP headers for every request, for example C(Host) for a gateway, a header that selects a variant, or an
        API key.
      - The task result shows their names but not their values.
    type: dict
  url_token:
    description: Bearer token for O(url).
    type: str
  url_ca_cert:
    description: CA certificate file for an C(https) O(url).
    type: path
  url_validate_certs:
    description: Verify the certificate of an C(https) O(url).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each complete answer.
    type: float
    default: 60
  retries:
    description:
      - Times to retry a prompt after a connection error, a timeout or HTTP 502/503/504 (a model that is still
        loading). Other failures are not retried.
    type: int
    default: 0
  retry_delay:
    description: Seconds between retries.
    type: float
    default: 5
  fail_on_error:
    description: Fail when any prompt fails. With C(false) the failures are only reported in RV(results).
    type: bool
    default: true
extends_documentation_fragment:
  - aiplatform.aks.k8s_auth
  - aiplatform.aks.attributes.info_module
attributes:
  check_mode:
    description: The prompts are sent in check mode too; they change nothing.
    support: full
notes:
  - The Kubernetes connection options are used only with O(service).
  - The API server's service proxy does not forward to endpoints on loopback addresses.
seealso:
  - module: aiplatform.aks.kaito_workspace
requirements:
  - kubernetes >= 37 (with O(service))
'''

EXAMPLES = r'''
- name: Ask a vLLM workspace through the API server (OpenAI API), streaming to time the first token
  aiplatform.aks.inference_probe:
    service: phi-4-mini
    namespace: ai-serving
    stream: true
    prompts:
      - What is Kubernetes?
      - prompt: What is 2 + 2? Answer with the number only.
        expect: '4'

- name: The five prompts of the CPU example through the transformers /chat API
  aiplatform.aks.inference_probe:
    service: bloomz-workspace
    namespace: bloomz
    api: chat
    generate_kwargs: {max_length: 64, do_sample: false}
    timeout: 60
    prompts:
      - What sport should I play in rainy weather?
      - Is a tomato a fruit or a vegetable?
      - Name three indoor activities suitable for rainy weather.
      - Can electric cars reduce air pollution? Explain briefly.
      - "Answer briefly: What is cloud computing?"
  register: bloomz

- name: The canary variant through the Istio ingress gateway
  aiplatform.aks.inference_probe:
    url: "http://{{ gateway_ip }}"
    headers:
      Host: models.example.com
      x-model-variant: canary
    prompts: [Hello]
    retries: 5
'''

RETURN = r'''
endpoint:
  description: Where the prompts were sent (no credentials).
  returned: always
  type: str
  sample: service ai-serving/phi-4-mini port 80 via the API server https://10.0.0.1:443
model:
  description: Model the prompts went to (C(openai)).
  returned: when O(api=openai)
  type: str
models:
  description: Models C(/v1/models) lists (C(openai) without O(model) given).
  returned: when O(api=openai)
  type: list
  elements: str
results:
  description: One entry per prompt, in order.
  returned: always
  type: list
  elements: dict
  contains:
    prompt: {description: The prompt., type: str, returned: always}
    answer: {description: The answer text (null when the request failed)., type: str, returned: always}
    ok: {description: Whether the prompt got a non-empty answer with HTTP 200 (matching C(expect))., type: bool, returned: always}
    error: {description: Why the prompt failed., type: str, returned: always}
    status: {description: HTTP status of the last attempt., type: int, returned: always}
    attempts: {description: Requests sent for this prompt., type: int, returned: always}
    ttfb_seconds: {description: Seconds from sending the request to the first byte of the response., type: float, returned: always}
    ttft_seconds: {description: Seconds to the first token (with O(stream=true))., type: float, returned: always}
    total_seconds: {description: Seconds until the whole answer arrived., type: float, returned: always}
    prompt_tokens: {description: Prompt tokens the server reports., type: int, returned: always}
    completion_tokens: {description: Generated tokens the server reports., type: int, returned: always}
    total_tokens: {description: Total tokens the server reports., type: int, returned: always}
    tokens_per_second: {description: Generated tokens per second of total time., type: float, returned: always}
summary:
  description: Counts and latency statistics (min, avg, max) over all prompts.
  returned: always
  type: dict
  sample: {prompts: 5, passed: 5, failed: 0, ttfb_seconds: {min: 0.8, avg: 1.2, max: 2.0}}
'''

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.aiplatform.aks.plugins.module_utils.inference.probe import (
    ProbeError, Prober, failure_message, option_problems, prompt_item_problems, redact_headers, service_proxy_endpoint, summarize,
    url_endpoint)
from ansible_collections.aiplatform.aks.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES, K8S_AUTH_ARG_SPEC, KUBERNETES_IMPORT_ERROR, K8sError, build_configuration)
from ansible_collections.aiplatform.aks.plugins.module_utils.module import PlatformModule


def argument_spec():
    spec = dict(K8S_AUTH_ARG_SPEC)
    spec.update(
        url=dict(type='str'),
        service=dict(type='str', aliases=['workspace']),
        namespace=dict(type='str'),
        service_port=dict(type='str', default='80'),
        service_scheme=dict(type='str', default='http', choices=['http', 'https']),
        api=dict(type='str', default='openai', choices=['openai', 'chat']),
        prompts=dict(type='list', elements='raw', required=True),
        model=dict(type='str'),
        system_prompt=dict(type='str'),
        max_tokens=dict(type='int', default=64, no_log=False),
        temperature=dict(type='float', default=0.0),
        stream=dict(type='bool', default=False),
        chat_path=dict(type='str', default='/chat'),
        generate_kwargs=dict(type='dict', default={'max_length': 64, 'do_sample': False}),
        return_full_text=dict(type='bool', default=False),
        headers=dict(type='dict'),
        url_token=dict(type='str', no_log=True),
        url_ca_cert=dict(type='path'),
        url_validate_certs=dict(type='bool', default=True),
        timeout=dict(type='float', default=60),
        retries=dict(type='int', default=0),
        retry_delay=dict(type='float', default=5),
        fail_on_error=dict(type='bool', default=True),
    )
    return spec


def endpoint_for(module):
    params = module.params
    headers = dict((str(k), str(v)) for k, v in (params['headers'] or {}).items())
    if params['url']:
        return url_endpoint(params['url'], headers, params['url_token'], params['url_ca_cert'], params['url_validate_certs'])
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=KUBERNETES_IMPORT_ERROR)
    try:
        configuration = build_configuration(params)
    except K8sError as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='cannot load the Kubernetes connection settings: %s' % exc, exception=traceback.format_exc())
    return service_proxy_endpoint(configuration, params['namespace'], params['service'], params['service_port'],
                                  params['service_scheme'], headers)


def prompt_items(module):
    items, problems = [], option_problems(module.params)
    for index, item in enumerate(module.params['prompts']):
        if isinstance(item, dict) and item.get('prompt'):
            items.append(item)
            problems.extend(prompt_item_problems(index + 1, item))
        elif isinstance(item, dict):
            problems.append('prompts item %d has no prompt' % (index + 1))
        elif isinstance(item, str) and item.strip():
            items.append({'prompt': item})
        else:
            problems.append('prompts item %d must be a non-empty string or a mapping with prompt' % (index + 1))
    if not module.params['prompts']:
        problems.append('prompts is empty')
    module.fail_on_input(problems)
    return items


def main():
    module = PlatformModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('url', 'service')],
        required_one_of=[('url', 'service')],
        required_by={'service': 'namespace'},
        supports_check_mode=True,
        redact_args=redact_headers,
    )
    params = module.params
    items = prompt_items(module)
    try:
        endpoint = endpoint_for(module)
    except ProbeError as exc:
        module.fail_json(msg=str(exc))
    prober = Prober(endpoint, api=params['api'], model=params['model'], timeout=params['timeout'], retries=params['retries'],
                    retry_delay=params['retry_delay'], stream=params['stream'], max_tokens=params['max_tokens'],
                    temperature=params['temperature'], system_prompt=params['system_prompt'], chat_path=params['chat_path'],
                    generate_kwargs=params['generate_kwargs'], return_full_text=params['return_full_text'])
    result = dict(changed=False, endpoint=endpoint.display, results=[])
    if params['api'] == 'openai':
        try:
            prober.discover_model()
        except ProbeError as exc:
            if not params['model']:
                module.fail_json(msg='cannot find the model to ask: %s' % exc, **result)
        result.update(model=prober.model, models=prober.models)
    result['results'] = [prober.ask(item) for item in items]
    result['summary'] = summarize(result['results'])
    if params['fail_on_error'] and result['summary']['failed']:
        module.fail_json(msg=failure_message(result['results'], endpoint), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

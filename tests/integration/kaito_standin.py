"""A stand-in for the KAITO controller on the test apiserver, which runs no controllers.

It does what KAITO does to the Workspace objects, and nothing else (no pods, no Service, no model):

- adds the ``workspace.finalizer.kaito.sh`` finalizer to each workspace, and removes it once the workspace is
  being deleted, so deletions wait for it as they do on a real cluster;
- ``--ready-after`` seconds after it first sees a generation of a workspace, reports ``ResourceReady``,
  ``InferenceReady`` and ``WorkspaceSucceeded`` True for that generation (``observedGeneration``) and state Ready.

``AdmissionStandIn`` is KAITO's validating admission webhook for Workspaces: an HTTPS server on 127.0.0.1 (its own
self-signed CA), registered with the apiserver as a ValidatingWebhookConfiguration (CREATE and UPDATE of
kaito.sh/v1beta1 workspaces, failurePolicy Fail), that refuses what KAITO v0.12 refuses with KAITO's messages
(rules: tests/integration/kaito_admission.py). Its ``node_auto_provisioning`` setting plays KAITO's feature gate
``disableNodeAutoProvisioning`` (inverted): True as on AKS with the KAITO add-on, False for bring-your-own nodes
(kind). Denials read ``admission webhook "kaito-admission-standin.kaito.sh" denied the request: <KAITO's message>``.

``mark-deployment-ready`` reports a Deployment as rolled out (the KAITO controller Deployment of the ``kaito``
scenario, which has no pods on the test bed).

    python -m tests.integration.kaito_standin start --state DIR/standin.json --kubeconfig KUBECONFIG [--watch PATH]
    python -m tests.integration.kaito_standin stop --state DIR/standin.json
    python -m tests.integration.kaito_standin mark-deployment-ready --kubeconfig KUBECONFIG --namespace NS --name NAME
    python -m tests.integration.kaito_standin install-crds --kubeconfig KUBECONFIG FILE...
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import json
import signal
import sys
import threading
import time
from pathlib import Path

from tests.integration import background

FINALIZER = 'workspace.finalizer.kaito.sh'
CONDITIONS = (('ResourceReady', 'workspaceResourceStatusSuccess'), ('InferenceReady', 'WorkspaceInferenceStatusSuccess'),
              ('WorkspaceSucceeded', 'workspaceSucceeded'))
MERGE = 'application/merge-patch+json'


def client_for(kubeconfig):
    import kubernetes
    from kubernetes.dynamic import DynamicClient
    return DynamicClient(kubernetes.config.new_client_from_config(config_file=str(kubeconfig)))


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def ready_status(generation):
    return {'state': 'Ready', 'conditions': [condition(ctype, 'True', reason, generation=generation) for ctype, reason in CONDITIONS]}


def is_current(ws):
    generation = ws['metadata'].get('generation')
    conds = dict((c['type'], c) for c in (ws.get('status') or {}).get('conditions') or [])
    return all(conds.get(t, {}).get('status') == 'True' and conds[t].get('observedGeneration') == generation for t, _r in CONDITIONS)


def workspaces(client):
    return client.resources.get(api_version='kaito.sh/v1beta1', kind='Workspace')


def condition(ctype, status, reason, message='stand-in controller on the test bed', generation=None):
    cond = {'type': ctype, 'status': status, 'reason': reason, 'message': message, 'lastTransitionTime': now()}
    if generation is not None:
        cond['observedGeneration'] = generation
    return cond


def set_status(client, namespace, name, conditions, state=None):
    """Replace the workspace's status conditions (and state), as KAITO would."""
    status = {'conditions': conditions}
    if state:
        status['state'] = state
    return workspaces(client).status.patch(name=name, namespace=namespace, content_type=MERGE, body={'status': status}).to_dict()


def mark_ready(client, namespace, name, generation):
    return set_status(client, namespace, name, ready_status(generation)['conditions'], 'Ready')


def set_finalizer(client, namespace, name, present=True):
    api = workspaces(client)
    meta = api.get(name=name, namespace=namespace).to_dict()['metadata']
    finalizers = [f for f in meta.get('finalizers') or [] if f != FINALIZER] + ([FINALIZER] if present else [])
    return api.patch(name=name, namespace=namespace, content_type=MERGE,
                     body={'metadata': {'finalizers': finalizers, 'resourceVersion': meta['resourceVersion']}}).to_dict()


class StandIn:
    def __init__(self, client, ready_after=2.0):
        self.client = client
        self.api = workspaces(client)
        self.ready_after = ready_after
        self.first_seen = {}  # (uid, generation) -> monotonic time

    def step(self):
        """One round over every workspace; like a controller's per-object reconcile, one that fails (a conflict with the
        module's write, a workspace the admission webhook now refuses) does not hold up the others."""
        from kubernetes.client.exceptions import ApiException
        for ws in self.api.get().to_dict().get('items') or []:
            try:
                self.reconcile(ws)
            except ApiException:
                continue

    def reconcile(self, ws):
        meta = ws['metadata']
        finalizers = meta.get('finalizers') or []
        if meta.get('deletionTimestamp'):
            if FINALIZER in finalizers:
                set_finalizer(self.client, meta['namespace'], meta['name'], present=False)
            return
        if FINALIZER not in finalizers:
            set_finalizer(self.client, meta['namespace'], meta['name'])
            return
        if is_current(ws):
            return
        key = (meta['uid'], meta['generation'])
        seen = self.first_seen.setdefault(key, time.monotonic())
        if time.monotonic() - seen >= self.ready_after:
            mark_ready(self.client, meta['namespace'], meta['name'], meta['generation'])

    @contextlib.contextmanager
    def running(self, interval=0.2):
        """Step in a thread for the length of the block (tests that play the controller beside ansible-playbook); a
        round that fails (a conflict with the module's write) is tried again the next round."""
        with background.stepping(self.step, interval):
            yield self


def for_old_apiserver(value):
    """The CRD without what a 1.20 apiserver refuses: CEL rules (x-kubernetes-validations, which it would not enforce
    anyway) and empty-string defaults (it reads them as null; the Gateway API CRDs default group to "")."""
    if isinstance(value, dict):
        return dict((k, for_old_apiserver(v)) for k, v in value.items()
                    if k != 'x-kubernetes-validations' and not (k == 'default' and value[k] == ''))
    if isinstance(value, list):
        return [for_old_apiserver(v) for v in value]
    return value


def install_crds(client, paths, field_manager='itest', timeout=30):
    """Create or replace CRD manifests (several may share a file; .gz files are read uncompressed) and wait until each is
    Established.

    On an apiserver older than 1.25 (the 1.20 test bed) what it refuses is removed first (see for_old_apiserver)."""
    import yaml
    from kubernetes.dynamic.exceptions import NotFoundError
    api = client.resources.get(api_version='apiextensions.k8s.io/v1', kind='CustomResourceDefinition')
    old = int(''.join(ch for ch in client.version['kubernetes']['minor'] if ch.isdigit())) < 25
    names = []
    for path in paths:
        path = Path(path)
        text = gzip.decompress(path.read_bytes()).decode() if path.suffix == '.gz' else path.read_text()
        for crd in yaml.safe_load_all(text):
            if crd:
                crd = for_old_apiserver(crd) if old else crd
                try:
                    live = api.get(name=crd['metadata']['name']).to_dict()
                except NotFoundError:
                    api.create(body=crd, field_manager=field_manager)
                else:
                    crd['metadata']['resourceVersion'] = live['metadata']['resourceVersion']
                    api.replace(body=crd, field_manager=field_manager)
                names.append(crd['metadata']['name'])
    deadline = time.monotonic() + timeout
    for name in names:
        while not any(c['type'] == 'Established' and c['status'] == 'True'
                      for c in (api.get(name=name).to_dict().get('status') or {}).get('conditions') or []):
            if time.monotonic() > deadline:
                raise RuntimeError('CRD %s is not Established after %ss' % (name, timeout))
            time.sleep(0.2)
    return names


def external_metrics_apiservice(apiservices, name, service=None, timeout=30):
    """Register APIService `name` for external.metrics.k8s.io/v1beta1 and wait until the aggregator has judged it: with
    `service` ({namespace, name, port}, one without endpoints) it becomes Available False; without one ("local") it
    becomes Available True, which stands for KEDA's metrics server. Returns the Available condition's status."""
    spec = {'group': 'external.metrics.k8s.io', 'version': 'v1beta1', 'groupPriorityMinimum': 100, 'versionPriority': 100}
    if service:
        spec.update(insecureSkipTLSVerify=True, service=service)
    apiservices.create(body={'metadata': {'name': name}, 'spec': spec})
    wanted = 'False' if service else 'True'
    deadline = time.monotonic() + timeout
    while True:
        conditions = (apiservices.get(name=name).to_dict().get('status') or {}).get('conditions') or []
        found = next((c['status'] for c in conditions if c['type'] == 'Available'), None)
        if found == wanted:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError('APIService %s is not Available=%s after %ss (%s)' % (name, wanted, timeout, found))
        time.sleep(0.2)


def delete_and_wait(resource, name, namespace=None, timeout=60):
    """Delete an object (the garbage collector takes what it owns) and wait until it is gone."""
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        resource.delete(name=name, namespace=namespace, propagation_policy='Background')
    except NotFoundError:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            resource.get(name=name, namespace=namespace)
        except NotFoundError:
            return
        if time.monotonic() > deadline:
            raise RuntimeError('%s %s is still there after %ss' % (resource.kind, name, timeout))
        time.sleep(0.2)


def remove_crds(client, names, timeout=60):
    """The inverse of install_crds, for a test that needs a kind not served: each CRD's objects lose their finalizers
    (their controllers, absent on the bed, would release them), then the CRD is deleted and waited for."""
    from kubernetes.dynamic.exceptions import NotFoundError
    crds = client.resources.get(api_version='apiextensions.k8s.io/v1', kind='CustomResourceDefinition')
    for name in names:
        try:
            crd = crds.get(name=name).to_dict()
        except NotFoundError:
            continue
        version = next(v['name'] for v in crd['spec']['versions'] if v.get('storage'))
        resource = client.resources.get(api_version='%s/%s' % (crd['spec']['group'], version), kind=crd['spec']['names']['kind'])
        for item in resource.get().to_dict()['items']:
            if item['metadata'].get('finalizers'):
                resource.patch(name=item['metadata']['name'], namespace=item['metadata'].get('namespace'), content_type=MERGE,
                               body={'metadata': {'finalizers': None}})
        delete_and_wait(crds, name, timeout=timeout)


def mark_deployment_ready(client, namespace, name):
    api = client.resources.get(api_version='apps/v1', kind='Deployment')
    dep = api.get(name=name, namespace=namespace).to_dict()
    replicas = dep['spec'].get('replicas', 1)
    api.status.patch(name=name, namespace=namespace, content_type=MERGE, body={'status': {
        'observedGeneration': dep['metadata']['generation'], 'replicas': replicas, 'updatedReplicas': replicas,
        'readyReplicas': replicas, 'availableReplicas': replicas,
        'conditions': [{'type': 'Available', 'status': 'True', 'reason': 'MinimumReplicasAvailable', 'message': 'stand-in',
                        'lastUpdateTime': now(), 'lastTransitionTime': now()}]}})
    return api.get(name=name, namespace=namespace).to_dict()['status']


WEBHOOK_NAME = 'kaito-admission-standin.kaito.sh'
WEBHOOK_CONFIGURATION = 'kaito-admission-standin'
SETTLE_PROBE = 'admission-settle-probe'  # the dry-run Workspace that shows the apiserver calls the stand-in


def self_signed_pki(directory):
    """A CA and a serving certificate for 127.0.0.1 (paths: ca, cert, key), made with ``cryptography``."""
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    when = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, key, issuer, issuer_key, ca):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(when - datetime.timedelta(hours=1))
             .not_valid_after(when + datetime.timedelta(days=7))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
        if not ca:
            b = (b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                 .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False))
        return b.sign(issuer_key, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'KAITO admission stand-in CA')])
    ca = build(ca_name, ca_key, ca_name, ca_key, True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')]), key, ca_name, ca_key, False)
    paths = {'ca': directory / 'ca.crt', 'cert': directory / 'tls.crt', 'key': directory / 'tls.key'}
    paths['ca'].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths['cert'].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths['key'].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                               serialization.NoEncryption()))
    paths['key'].chmod(0o600)
    return paths


class AdmissionStandIn:
    """KAITO's Workspace admission webhook on the test bed (a stand-in): see the module's docstring."""

    def __init__(self, client, directory, node_auto_provisioning=True, log=None):
        self.client = client
        self.directory = Path(directory)
        self.node_auto_provisioning = node_auto_provisioning
        self.reviews = []  # (operation, namespace/name, denial text or None)
        self.log = Path(log) if log else None  # JSON lines of the reviews, for a run in the background
        self.server = None
        self.thread = None

    def decide(self, request):
        from tests.integration import kaito_admission
        obj = request.get('object') or {}
        old = request.get('oldObject') if request.get('operation') == 'UPDATE' else None
        nodes = []
        if not self.node_auto_provisioning:
            nodes = self.client.resources.get(api_version='v1', kind='Node').get().to_dict().get('items') or []
        denial = kaito_admission.review(obj, old=old, node_auto_provisioning=self.node_auto_provisioning, nodes=nodes)
        meta = obj.get('metadata') or {}
        where = '%s/%s' % (meta.get('namespace') or request.get('namespace'), meta.get('name'))
        self.reviews.append((request.get('operation'), where, denial))
        if self.log and not (meta.get('name') == SETTLE_PROBE and request.get('dryRun')):
            with self.log.open('a') as out:
                out.write(json.dumps({'operation': request.get('operation'), 'workspace': where, 'denial': denial,
                                      'dry_run': bool(request.get('dryRun'))}) + '\n')
        response = {'uid': request.get('uid'), 'allowed': denial is None}
        if denial is not None:
            response['status'] = {'status': 'Failure', 'reason': 'BadRequest', 'code': 400, 'message': denial}
        return response

    def start(self):
        import http.server
        import ssl
        paths = self_signed_pki(self.directory)
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)) or b'{}')
                try:
                    response = standin.decide(body.get('request') or {})
                except Exception as exc:  # pylint: disable=broad-except
                    response = {'uid': (body.get('request') or {}).get('uid'), 'allowed': False,
                                'status': {'code': 500, 'message': 'KAITO admission stand-in failed: %r' % exc}}
                data = json.dumps({'apiVersion': 'admission.k8s.io/v1', 'kind': 'AdmissionReview', 'response': response}).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(paths['cert']), str(paths['key']))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.ca_pem = paths['ca'].read_bytes()
        return self

    @property
    def url(self):
        return 'https://127.0.0.1:%d/validate-workspace' % self.server.server_address[1]

    def configuration(self, ca_pem):
        import base64
        return {
            'apiVersion': 'admissionregistration.k8s.io/v1', 'kind': 'ValidatingWebhookConfiguration',
            'metadata': {'name': WEBHOOK_CONFIGURATION, 'labels': {'app.kubernetes.io/part-of': 'test-bed'}},
            'webhooks': [{
                'name': WEBHOOK_NAME, 'admissionReviewVersions': ['v1'], 'sideEffects': 'None', 'failurePolicy': 'Fail',
                'timeoutSeconds': 10,
                'clientConfig': {'url': self.url, 'caBundle': base64.b64encode(ca_pem).decode()},
                'rules': [{'apiGroups': ['kaito.sh'], 'apiVersions': ['v1beta1'], 'resources': ['workspaces'],
                           'operations': ['CREATE', 'UPDATE'], 'scope': 'Namespaced'}],
            }],
        }

    def register(self):
        """Have the apiserver call the stand-in for every CREATE and UPDATE of a Workspace."""
        from kubernetes.dynamic.exceptions import NotFoundError
        api = self.client.resources.get(api_version='admissionregistration.k8s.io/v1', kind='ValidatingWebhookConfiguration')
        body = self.configuration(self.ca_pem)
        try:
            live = api.get(name=WEBHOOK_CONFIGURATION).to_dict()
        except NotFoundError:
            api.create(body=body)
        else:
            body['metadata']['resourceVersion'] = live['metadata']['resourceVersion']
            api.replace(body=body)
        self._settle(called=True)

    def unregister(self):
        from kubernetes.dynamic.exceptions import NotFoundError
        api = self.client.resources.get(api_version='admissionregistration.k8s.io/v1', kind='ValidatingWebhookConfiguration')
        with contextlib.suppress(NotFoundError):
            api.delete(name=WEBHOOK_CONFIGURATION)
        self._settle(called=False)

    def _settle(self, called, timeout=10.0):
        """The apiserver takes up a webhook configuration change a moment after it is stored: dry-run Workspace creates
        until the stand-in is (or is no longer) called, so the test that follows sees the change. The probes' reviews
        are not kept. Without the Workspace CRD there is nothing to wait for."""
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import ResourceNotFoundError
        try:
            api = workspaces(self.client)
        except ResourceNotFoundError:
            return
        probe = {'apiVersion': 'kaito.sh/v1beta1', 'kind': 'Workspace', 'metadata': {'name': SETTLE_PROBE, 'namespace': 'default'},
                 'resource': {'instanceType': 'Standard_NC24ads_A100_v4', 'labelSelector': {'matchLabels': {'apps': 'probe'}}},
                 'inference': {'preset': {'name': 'phi-4-mini-instruct'}}}
        deadline = time.monotonic() + timeout
        while True:
            before = len(self.reviews)
            with contextlib.suppress(ApiException):
                api.create(body=probe, namespace='default', dry_run='All')
            seen = len(self.reviews) > before
            del self.reviews[before:]
            if seen == called:
                return
            if time.monotonic() > deadline:
                raise AssertionError('the apiserver did not %s the KAITO admission stand-in within %ss' % ('call' if called else 'stop calling', timeout))
            time.sleep(0.1)

    def stop(self):
        self.unregister()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()

    @contextlib.contextmanager
    def mode(self, node_auto_provisioning):
        """Play one provisioning mode for the length of the block (AKS add-on: True; kind, bring-your-own: False)."""
        before = self.node_auto_provisioning
        self.node_auto_provisioning = node_auto_provisioning
        try:
            yield self
        finally:
            self.node_auto_provisioning = before


def serve(args):
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    client = client_for(args.kubeconfig)
    standin = StandIn(client, args.ready_after)
    state = Path(args.state)
    info = {'kubeconfig': str(args.kubeconfig), 'ready_after': args.ready_after}
    admission = None
    if args.admission:
        # registered before the ready file is written, so what runs next is already judged by it
        admission = AdmissionStandIn(client, state.with_suffix('.admission'), args.admission == 'node-auto-provisioning',
                                     log=state.with_suffix('.reviews.jsonl')).start()
        admission.register()
        info.update(admission=args.admission, reviews=str(admission.log))
    background.write_ready(state, info)
    try:
        return reconcile_until_told(standin, args)
    finally:
        if admission:
            with contextlib.suppress(ApiException, HTTPError, OSError):
                admission.stop()


def reconcile_until_told(standin, args):
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError
    failing_since = None
    while not background.should_exit(args.watch):
        try:
            standin.step()
            failing_since = None
        except ApiException as exc:
            if exc.status != 409:  # a conflict just means the object changed under us: next round
                print('stand-in: %s' % exc, file=sys.stderr, flush=True)
        except (HTTPError, OSError) as exc:
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > 30:
                print('stand-in: the apiserver is gone (%s); exiting' % exc, file=sys.stderr, flush=True)
                return 0
        time.sleep(args.interval)
    return 0


def main(argv=None):
    def arguments(p):
        p.add_argument('--kubeconfig', required=True)
        p.add_argument('--ready-after', type=float, default=2.0)
        p.add_argument('--interval', type=float, default=0.5)
        p.add_argument('--admission', choices=['node-auto-provisioning', 'bring-your-own'],
                       help="also serve KAITO's admission webhook (stand-in) in this provisioning mode, registered with the apiserver")
    parser, sub = background.helper_parser('tests.integration.kaito_standin', __doc__, arguments)
    p = sub.add_parser('install-crds', help='create or replace CRD files, without what a 1.20 apiserver refuses')
    p.add_argument('--kubeconfig', required=True)
    p.add_argument('files', nargs='+')
    p = sub.add_parser('mark-deployment-ready')
    p.add_argument('--kubeconfig', required=True)
    p.add_argument('--namespace', required=True)
    p.add_argument('--name', required=True)
    args = parser.parse_args(argv)
    if background.start_or_stop(args, 'kaito-standin', 'tests.integration.kaito_standin', ['kubeconfig', 'ready-after', 'interval', 'admission']):
        return 0
    if args.command == 'install-crds':
        print(json.dumps({'established': install_crds(client_for(args.kubeconfig), args.files, field_manager='molecule-prepare')}))
        return 0
    if args.command == 'mark-deployment-ready':
        print(json.dumps(mark_deployment_ready(client_for(args.kubeconfig), args.namespace, args.name)))
        return 0
    return serve(args)


if __name__ == '__main__':
    sys.exit(main())

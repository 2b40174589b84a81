"""The Gateway API CRDs the istio role installs with helm: every standard-channel CRD of the bundle its directory names,
one per file, and the default version has a directory."""

from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[3] / 'roles' / 'istio'
STANDARD = {'backendtlspolicies', 'gatewayclasses', 'gateways', 'grpcroutes', 'httproutes', 'referencegrants'}


def test_each_shipped_bundle_holds_the_standard_channel_crds_of_its_version():
    bundles = sorted(p for p in (ROLE / 'files' / 'gateway-api').iterdir() if p.is_dir())
    assert [b.name for b in bundles] == ['v1.4.1']
    for bundle in bundles:
        crds = [yaml.safe_load(path.read_text()) for path in sorted(bundle.glob('*.yaml'))]
        assert all(c['kind'] == 'CustomResourceDefinition' and c['spec']['group'] == 'gateway.networking.k8s.io' for c in crds)
        assert set(c['spec']['names']['plural'] for c in crds) == STANDARD
        assert set((c['metadata']['annotations']['gateway.networking.k8s.io/bundle-version'],
                    c['metadata']['annotations']['gateway.networking.k8s.io/channel']) for c in crds) == {(bundle.name, 'standard')}


def test_the_default_version_is_shipped():
    defaults = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())
    assert (ROLE / 'files' / 'gateway-api' / defaults['istio_gateway_api_version']).is_dir()

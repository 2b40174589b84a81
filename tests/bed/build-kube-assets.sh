#!/usr/bin/env bash
# Produce envtest-style assets (etcd, kube-apiserver, kubectl) from Debian's archive and cache them.
# Prints the assets directory on stdout. A cached build returns at once.
# Why: no downloads besides the package archive; kube-apiserver is not packaged, so it is built from source.
set -euo pipefail

VERSION=1.20.2
CACHE_ROOT=${AIPLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiplatform-aks}
OUT=$CACHE_ROOT/kube-assets/v$VERSION
log() { echo "build-kube-assets: $*" >&2; }

if [[ -x $OUT/kube-apiserver && -x $OUT/etcd && -x $OUT/kubectl ]]; then
  echo "$OUT"; exit 0
fi
command -v apt-get >/dev/null || { log "needs a Debian machine (apt-get), or set KUBEBUILDER_ASSETS"; exit 1; }
SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo

# deb-src entries mirror the machine's own deb entries (never a hard-coded mirror).
add_deb_src() {
  local deb822=/etc/apt/sources.list.d/debian.sources src=/etc/apt/sources.list.d/aiplatform-aks-src.sources
  if [[ -f $deb822 ]]; then
    sed -e 's/^Types:.*/Types: deb-src/' "$deb822" | $SUDO tee "$src" >/dev/null
  elif [[ -f /etc/apt/sources.list ]]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' \
      | $SUDO tee /etc/apt/sources.list.d/aiplatform-aks-src.list >/dev/null
  else
    log "no apt sources found"; exit 1
  fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kube-assets.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building kube-apiserver v$VERSION in $WORK (about 5 minutes, once)"
add_deb_src
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-1.19-go etcd-server >/dev/null
cd "$WORK"
apt-get source --download-only kubernetes >/dev/null 2>&1
apt-get download golang-github-modern-go-reflect2-dev kubernetes-client >/dev/null 2>&1

export GOPATH=$WORK/gopath GOCACHE=$WORK/gocache PATH=/usr/lib/go-1.19/bin:$PATH
export GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
K=$GOPATH/src/k8s.io/kubernetes
mkdir -p "$K"
tar xzf kubernetes_*.orig.tar.gz -C "$K" --strip-components=1

# vendored reflect2 v1.0.1 crashes on Go >= 1.18; Debian's v1.0.2 is API-compatible
dpkg-deb -x golang-github-modern-go-reflect2-dev_*.deb reflect2
R=$K/vendor/github.com/modern-go/reflect2
rm -f "$R"/*.go "$R"/*.s
find reflect2/usr/share/gocode/src/github.com/modern-go/reflect2 -maxdepth 1 \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' -exec cp {} "$R"/ \;

cd "$K"
go build -o "$WORK/openapi-gen" k8s.io/kubernetes/vendor/k8s.io/kube-openapi/cmd/openapi-gen
INPUTS=$(grep -rl --include='*.go' -e '+k8s:openapi-gen=' . \
  | grep -v -e '^./vendor/' -e '/\.' -e '/_' \
  | xargs grep -l -e '// +k8s:' | xargs -n1 dirname | sort -u \
  | sed -e 's#^\./##' -e 's#^staging/src/k8s.io/#vendor/k8s.io/#' \
  | grep -v -e '^vendor/k8s.io/code-generator' -e '^vendor/k8s.io/sample-apiserver' \
  | sed 's#^#k8s.io/kubernetes/#' | paste -sd, -)
"$WORK/openapi-gen" --logtostderr=false -i "$INPUTS" -p k8s.io/kubernetes/pkg/generated/openapi \
  -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$WORK/violations.report"
if ! diff -q <(sort "$WORK/violations.report") <(sort api/api-rules/violation_exceptions.list) >/dev/null; then
  log "openapi-gen input set is wrong (violation report differs)"; exit 1
fi

LDF="-s -w"
for p in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  LDF="$LDF -X $p.gitVersion=v$VERSION -X $p.gitMajor=1 -X $p.gitMinor=20 -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%FT%TZ)"
done
mkdir -p "$OUT.tmp"
go build -trimpath -ldflags "$LDF" -o "$OUT.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver

cd "$WORK"
dpkg-deb -x kubernetes-client_*.deb client
cp client/usr/bin/kubectl "$OUT.tmp/kubectl"
cp "$(command -v etcd || echo /usr/bin/etcd)" "$OUT.tmp/etcd"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
log "assets ready in $OUT"
echo "$OUT"

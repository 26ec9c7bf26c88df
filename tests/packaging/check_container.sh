#!/usr/bin/env bash
# The container recipe. Always: its shape (multi-stage, Debian slim runtime,
# the .deb installed, a numeric non-root USER, ENTRYPOINT ["phasegate"]).
# Where a container engine and the Debian base images are available: builds
# the image and runs it (--version, the user it runs as). Otherwise exit 77
# with the reason.
set -euo pipefail
src=${PG_SOURCE_DIR:?}
cf=$src/Containerfile
fail() { echo "FAIL: $*"; exit 1; }
[[ -f $cf ]] || fail "no Containerfile"
froms=$(grep -c '^FROM ' "$cf")
[[ $froms -ge 2 ]] || fail "not multi-stage ($froms FROM lines)"
last_from=$(grep '^FROM ' "$cf" | tail -1)
[[ $last_from == *'-slim'* ]] || fail "the runtime stage is not Debian slim: $last_from"
grep -q 'cpack -G DEB' "$cf" || fail "the builder stage does not build the .deb"
grep -Eq 'apt-get install .*/tmp/phasegate_\*\.deb' "$cf" || fail "the runtime stage does not install the .deb"
user=$(grep '^USER ' "$cf" | tail -1 | awk '{print $2}')
[[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "USER must be numeric and not root, got '$user'"
grep -qx 'ENTRYPOINT \["phasegate"\]' "$cf" || fail 'ENTRYPOINT is not ["phasegate"]'
grep -q '^build\*/' "$src/.containerignore" || fail ".containerignore does not keep build trees out"

engine=""
for e in podman buildah docker; do
  if command -v $e >/dev/null 2>&1; then engine=$e; break; fi
done
if [[ -z $engine ]]; then
  echo "recipe shape ok; image build skipped: no container engine (podman, buildah or docker) on this machine"
  exit 77
fi
[[ $engine == buildah ]] && run=podman || run=$engine
if [[ $engine == docker ]] && ! timeout 20 docker info >/dev/null 2>&1; then
  echo "recipe shape ok; image build skipped: a docker client is installed but no docker daemon answers"
  exit 77
fi
if ! timeout 300 $engine pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1 &&
   ! $engine image inspect docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  echo "recipe shape ok; image build skipped: the Debian base images cannot be pulled here"
  exit 77
fi
tag=localhost/phasegate-test:$$
if [[ $engine == buildah ]]; then
  buildah bud -q -t $tag -f "$cf" "$src" >/dev/null
else
  $engine build -q -t $tag -f "$cf" "$src" >/dev/null
fi
trap '$run rmi -f $tag >/dev/null 2>&1 || true' EXIT
$run run --rm $tag --version | grep -q '^phasegate ' || fail "the image's phasegate --version"
uid=$($run run --rm --entrypoint id $tag -u)
[[ $uid != 0 ]] || fail "the image runs as root"
echo "ok: image built with $engine; runs phasegate as uid $uid"

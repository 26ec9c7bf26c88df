#!/usr/bin/env bash
# Installs what building, testing and the demo need, from Debian's packages
# (and newman from the npm registry for bench/ only). Safe to run again.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libyaml-dev libjansson-dev libpcre2-dev libxml2-dev libxml2-utils libcurl4-openssl-dev
  libjq-dev libonig-dev libc-ares-dev libcmocka-dev liblua5.1-0-dev lua5.1 libssl-dev valgrind
  python3 python3-yaml python3-junitparser python3-jsonschema openssl jq time curl procps bsdutils
  nginx-light dnsmasq bind9-dnsutils prometheus prometheus-alertmanager nftables iproute2
  openssh-client cmark-gfm chromium scdoc lintian dpkg-dev fakeroot man-db bash-completion zsh fish
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]} (run this script as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# kubectl comes with these machines (the simulator's fidelity tests need the
# real one); where it is missing, Debian's older kubectl is the fallback.
if ! command -v kubectl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -q --no-install-recommends kubernetes-client || true
  fi
  command -v kubectl >/dev/null 2>&1 || echo "warning: kubectl not found; the simulator fidelity tests will fail" >&2
fi

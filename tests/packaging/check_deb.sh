#!/usr/bin/env bash
# Builds the Debian package with CPack, checks it with lintian (no error or
# warning), installs it with dpkg, and uses what it installed: the binary
# (--version, a suite run), the man pages (man -w), the bash completion, and
# the plugin SDK (the sample plugin built with pkg-config --cflags
# phasegate-plugin, then loaded by the installed phasegate). The package is
# removed again at the end. Exit 77 (skipped) in a sanitizer build (the
# package is made from the normal build) or without root.
set -euo pipefail
src=${PG_SOURCE_DIR:?} build=${PG_BUILD_DIR:?}
if [[ ${PG_SANITIZE:-OFF} == ON ]]; then
  echo "skipped: sanitizer build; the package is built and tested from the normal build"
  exit 77
fi
if [[ $(id -u) != 0 ]]; then
  echo "skipped: installing a package with dpkg needs root"
  exit 77
fi
for tool in cpack lintian dpkg pkg-config man cc; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh)"; exit 1; }
done
tmp=$(mktemp -d)
installed=0
cleanup() {
  if [[ $installed == 1 ]]; then
    dpkg_retry -r phasegate >/dev/null || echo "warning: could not remove the phasegate package"
  fi
  rm -rf "$tmp"
}
# dpkg waits for nobody: retry while another installer holds its lock
dpkg_retry() {
  local i out
  for i in $(seq 1 90); do
    if out=$(dpkg "$@" 2>&1); then
      printf '%s\n' "$out"
      return 0
    fi
    [[ $out == *lock* ]] || { printf '%s\n' "$out" >&2; return 1; }
    sleep 2
  done
  printf '%s\n' "$out" >&2
  return 1
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

version=$(sed -n 's/^CPACK_PACKAGE_VERSION "\(.*\)"$/\1/p;s/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' \
  "$build/CPackConfig.cmake" | head -1)
[[ -n $version ]] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(ls "$tmp"/pkg/phasegate_*.deb)
echo "built $(basename "$deb")"

# dependencies come from dpkg-shlibdeps: the libraries phasegate links
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libyaml-0-2 libjansson4 libcurl4 libpcre2-8-0 libxml2 libjq1 libc-ares2 libc6; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
lintian --fail-on error,warning --suppress-tags binary-has-unneeded-section "$deb" ||
  fail "lintian found errors or warnings"

# install; dpkg.cfg may exclude man pages and docs (container images do)
dpkg_retry --path-include='/usr/share/man/*' --path-include='/usr/share/doc/phasegate/*' -i "$deb" >/dev/null ||
  fail "dpkg -i failed"
installed=1
got=$(/usr/bin/phasegate --version)
[[ $got == "phasegate $version" ]] || fail "installed --version says '$got', want 'phasegate $version'"
page=$(man -w phasegate) || fail "man -w phasegate found nothing"
[[ $page == /usr/share/man/man1/phasegate.1* ]] || fail "man -w phasegate gave $page"
man -w 5 phasegate-suite >/dev/null || fail "man -w 5 phasegate-suite found nothing"
MANWIDTH=80 man phasegate 2>/dev/null | grep -q "EXIT STATUS" || fail "the man page does not render"
[[ -s /usr/share/doc/phasegate/copyright && -s /usr/share/doc/phasegate/suites.md ]] || fail "docs missing"
comp=$(bash -c 'source /usr/share/bash-completion/bash_completion; _completion_loader phasegate; complete -p phasegate')
grep -q _phasegate <<<"$comp" || fail "bash does not load the installed completion"
[[ -f /usr/share/zsh/vendor-completions/_phasegate && -f /usr/share/fish/vendor_completions.d/phasegate.fish ]] ||
  fail "zsh/fish completions missing"

# the SDK: the sample plugin built against the installed headers only
cflags=$(pkg-config --cflags phasegate-plugin) || fail "pkg-config does not know phasegate-plugin"
incdir=$(for f in $cflags; do [[ $f == -I* ]] && realpath -m "${f#-I}"; done | head -1)
[[ $incdir == /usr/include/phasegate && -f $incdir/module.h ]] || fail "pkg-config --cflags gives '$cflags'"
mkdir -p "$tmp/plugins"
cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -shared -fPIC \
  $cflags -o "$tmp/plugins/sample.so" "$src/tests/plugin/sample_plugin.c" $(pkg-config --libs jansson) ||
  fail "the sample plugin does not build against the installed SDK"
mods=$(/usr/bin/phasegate modules --plugins "$tmp/plugins")
grep -q '^sample ' <<<"$mods" || fail "the installed phasegate does not list the plugin"
(cd "$tmp" && /usr/bin/phasegate run "$src/tests/packaging/plugin-suite.yaml" --plugins "$tmp/plugins" \
  --json "$tmp/r.json" --quiet) || fail "the plugin suite did not pass with the installed phasegate"
grep -q '"verdict": "GO"' "$tmp/r.json" || fail "no GO verdict in the plugin run"
echo "ok: $(basename "$deb") is lintian-clean, installs, and its binary, man pages, completion and SDK work"

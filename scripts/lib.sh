# Shared by the scripts: find swift, install what is missing, build.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$PATH:/opt/swift/usr/bin"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# apt_install PKG... : install the Debian packages that are missing.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install ${missing[*]}" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The system libraries and interpreters every sandbox needs.
setup_base() {
  command -v swift >/dev/null || { echo "swift not found: install Swift 6.1+ (expected at /opt/swift)" >&2; exit 1; }
  apt_install libseccomp-dev libcap-dev pkg-config
  [ -x /usr/bin/python3 ] || apt_install python3
  [ -x /usr/bin/node ] || apt_install nodejs
}

# build [debug|release]
build() {
  local config="${1:-debug}"
  log "building ($config)"
  # The progress lines are dropped; the build's own exit status decides.
  (cd "$ROOT" && { swift build -c "$config" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]'; exit "${PIPESTATUS[0]}"; })
}

bin_dir() { (cd "$ROOT" && swift build -c "${1:-debug}" --show-bin-path); }

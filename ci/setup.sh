#!/usr/bin/env bash
# Installs what clcp-bench needs on a fresh Debian 12 machine and builds it (Release, build/release):
#   1. Debian packages from ci/apt-packages.txt (skipped when all are installed),
#   2. a virtual environment build/venv with the pinned PyPI packages of ci/requirements.txt (the torch wheel
#      provides LibTorch; each install downloads several GB: pip's cache is off, so those GB are not kept twice on a
#      disk the tests also need — docs/testing.md#disk),
#   3. the test-only oracle environments (build/oracle-venv, build/albu-venv) — only when the tests are built (no
#      targets given) or for `none`; the quickstart neither needs nor installs them,
#   4. CMake configure + build with Ninja and ccache: the targets given as arguments (the quickstart builds only
#      `clcp-bench`), everything when none are given, nothing for `none`.
set -euo pipefail
targets=("$@")
cd "$(dirname "$0")/.."
say() { printf '\n[setup] %s\n' "$*" >&2; }

# CLCP_TEST_TIER=full also needs the [visual] tier's tools (Chromium, pdflatex + pgfplots, pdftoppm).
apt_lists=(ci/apt-packages.txt)
[ "${CLCP_TEST_TIER:-}" = full ] && apt_lists+=(ci/apt-packages-full.txt)
mapfile -t pkgs < <(grep -hvE '^\s*(#|$)' "${apt_lists[@]}")
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi

if [ ! -x build/venv/bin/python ]; then
  say "creating the virtual environment build/venv"
  python3 -m venv build/venv
fi
stamp=build/venv/.requirements.sha256
want=$(sha256sum ci/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing pinned PyPI packages into build/venv (torch provides LibTorch; first time: several GB)"
  build/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check -r ci/requirements.txt
  echo "$want" > "$stamp"
else
  say "PyPI packages: up to date"
fi

# oracle_venv DIR REQUIREMENTS BASE WHAT [PIP_FLAGS…]: a test-only venv of pinned oracles, reinstalled when its
# requirements change. BASE=base: it also sees build/venv's torch/numpy/timm through a .pth file. An install that fails
# is a warning: the tests that need WHAT skip visibly.
oracle_venv() {
  local dir=$1 req=$2 base=$3 what=$4
  shift 4
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  local reqs=("$req")
  if [ "$base" = base ]; then
    build/venv/bin/python -c 'import site; print(site.getsitepackages()[0])' > \
      "$("$dir/bin/python" -c 'import site; print(site.getsitepackages()[0])')/clcp_base_venv.pth"
    reqs=(ci/requirements.txt "$req")
  fi
  local stamp=$dir/.requirements.sha256 want
  want=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "installing $what ($req) into $dir"
  if "$dir/bin/pip" install -q --no-cache-dir --disable-pip-version-check "$@" -r "$req"; then
    echo "$want" > "$stamp"
  else
    say "WARNING: installing $what failed; the tests that need it will skip"
  fi
}
install_oracles() {
  # Parity oracles (tests/parity/: mmseg 1.2.2, cityscapesScripts, torchmetrics) on top of build/venv's torch.
  oracle_venv build/oracle-venv ci/oracle-requirements.txt base "the parity oracles"
  # The albumentations 1.4.14 oracle (test_augment) needs numpy < 2, so it has a venv of its own.
  oracle_venv build/albu-venv ci/albumentations-requirements.txt alone "the albumentations oracle"
  # lightly 1.6.0's NTXentLoss (test_nt_xent): its source only (--no-deps: its declared dependencies pull
  # pytorch_lightning and another torchvision); the test loads ntx_ent_loss.py with the two lightly modules it
  # imports stubbed, on build/venv's torch.
  oracle_venv build/lightly-venv ci/lightly-requirements.txt base "the lightly oracle" --no-deps
}
if [ ${#targets[@]} -eq 0 ] || [ "${targets[0]}" = none ]; then install_oracles; fi

[ "${targets[0]:-}" = none ] && exit 0
say "configuring and building (Release, build/release${targets[*]:+: ${targets[*]}})"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
# ccache's hits in this build (compilations an earlier clone on this machine already made) are reported at the end.
ccache_counts() { ccache --print-stats 2>/dev/null | awk '/^(direct_cache_hit|preprocessed_cache_hit)\t/ {h += $2}
                                                        /^cache_miss\t/ {m += $2} END {print h + 0, m + 0}'; }
read -r hits0 misses0 < <(ccache_counts)
t0=$SECONDS
ninja -C build/release -j"$(nproc)" "${targets[@]}"
read -r hits1 misses1 < <(ccache_counts)
say "built in $((SECONDS - t0)) s; ccache: $((hits1 - hits0)) hits, $((misses1 - misses0)) misses"
say "built build/release/${targets[*]:-clcp-bench and the tests}"

#!/usr/bin/env bash
# Installs the Debian packages that some test suites and the SLURM backend need, idempotently.
#   scripts/system-deps.sh xml|browser|slurm|training|deploy|all ...
# Exit codes: 0 all present (installed now or before), 3 missing and cannot install (not root,
# or no apt-get): the caller skips its suite and says why.
set -euo pipefail

declare -A GROUP_PACKAGES=(
  [xml]="libxml2-utils"
  [browser]="chromium"
  [slurm]="slurm-wlm munge"
  [training]="python3-torch python3-sklearn"
  [deploy]="shellcheck yamllint systemd"
)
declare -A GROUP_COMMANDS=(
  [xml]="xmllint"
  [browser]="chromium"
  [slurm]="slurmctld slurmd sbatch squeue munged"
  # py:MODULE: importable by Debian's /usr/bin/python3 (the python3 first on PATH may be another)
  [training]="py:torch py:sklearn"
  [deploy]="shellcheck yamllint systemd-analyze"
)

groups=("$@")
[[ ${#groups[@]} -eq 0 || ${groups[0]} == all ]] && groups=(xml browser slurm training deploy)

present() {
  if [[ $1 == py:* ]]; then /usr/bin/python3 -c "import ${1#py:}" >/dev/null 2>&1; return; fi
  command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 ]]
}

missing_packages=()
for g in "${groups[@]}"; do
  [[ -n ${GROUP_PACKAGES[$g]:-} ]] || { echo "system-deps: unknown group '$g' (use xml, browser, slurm, training, deploy or all)" >&2; exit 2; }
  for c in ${GROUP_COMMANDS[$g]}; do
    if ! present "$c"; then
      read -r -a group_packages <<<"${GROUP_PACKAGES[$g]}"
      missing_packages+=("${group_packages[@]}")
      break
    fi
  done
done

[[ ${#missing_packages[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "system-deps: missing Debian packages: ${missing_packages[*]}; run as root (or: sudo apt-get install ${missing_packages[*]})" >&2
  exit 3
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing packages ${missing_packages[*]} and no apt-get to install them" >&2
  exit 3
fi

# One lock for concurrent test files that ask at the same time.
exec 9>/tmp/grm-system-deps.lock
flock 9
export DEBIAN_FRONTEND=noninteractive
if [[ ! -f /tmp/grm-apt-updated ]]; then
  apt-get update -qq >&2
  touch /tmp/grm-apt-updated
fi
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >&2

#!/usr/bin/env bash
# The tests, on a fresh machine: finds or installs what they need beyond the .NET 10 SDK, then runs
# `dotnet test Federated.sln` (extra arguments go to it, e.g. ./test.sh --filter FullyQualifiedName~Dashboard).
#
# What it installs, from Debian's apt, only when missing (as root, or through sudo):
#   chromium           the browser the dashboard tests drive through Playwright at /usr/bin/chromium
#                      (Playwright's own browser download is not used)
#   libfontconfig1     SkiaSharp's native library (the compare plots, OxyPlot) links it
#   fonts-dejavu-core  a font for the plots' text (a fresh Debian image has none)
# Everything else comes from NuGet at build time; the build fixes TorchSharp's libstdc++ version need by itself.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=true

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (https://dot.net); this machine has none" >&2
  exit 1
fi

# Debian packages the tests need, each with the file that shows it is there.
declare -A needs=(
  [chromium]=/usr/bin/chromium
  [libfontconfig1]=/usr/lib/x86_64-linux-gnu/libfontconfig.so.1
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
)

missing=()
for package in "${!needs[@]}"; do
  [ -e "${needs[$package]}" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      as_root=(sudo)
    else
      echo "test.sh: the tests need ${missing[*]} (apt-get install ${missing[*]}); run as root or with sudo to install them" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: the tests need ${missing[*]}, and this machine has no apt-get to install them: install them by hand" >&2
    exit 1
  fi
  echo "test.sh: installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

exec dotnet test Federated.sln "$@"

#!/usr/bin/env bash
# The tests, on a fresh machine: finds or installs what they need beyond the .NET 10 SDK, then runs
# `dotnet test Federated.sln` (extra arguments go to it, e.g. ./test.sh --filter FullyQualifiedName~Dashboard).
#
# What it installs, from Debian's apt, only when missing (as root, or through sudo):
#   chromium           the browser the dashboard tests drive through Playwright at /usr/bin/chromium
#                      (Playwright's own browser download is not used)
#   libfontconfig1     SkiaSharp's native library (the compare plots, OxyPlot) links it
#   fonts-dejavu-core  a font for the plots' text (a fresh Debian image has none)
#   systemd            only its systemd-analyze, which checks the edge machine's unit file offline (no systemd
#                      needs to run)
#   postgresql         the cluster tests' database: this script starts a private server on a loopback port in a
#                      temporary folder (tests/scripts/postgres.sh), hands it to the tests as FEDERATED_TEST_POSTGRES
#                      and stops it at the end; the machine's own PostgreSQL service is never touched
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
  [postgresql]='/usr/lib/postgresql/*/bin/initdb'
  [systemd]=/usr/bin/systemd-analyze
)

missing=()
for package in "${!needs[@]}"; do
  compgen -G "${needs[$package]}" >/dev/null || missing+=("$package")
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

# A private PostgreSQL server for the cluster tests, unless the caller brings one.
if [ -z "${FEDERATED_TEST_POSTGRES:-}" ]; then
  pg_dir=$(mktemp -d /tmp/federated-postgres.XXXXXX)
  trap 'tests/scripts/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
  for attempt in 1 2 3 4 5; do
    pg_port=$((20000 + RANDOM % 30000))
    rm -rf "${pg_dir:?}"/*
    if tests/scripts/postgres.sh start "$pg_dir" "$pg_port"; then break; fi
    [ "$attempt" -eq 5 ] && { echo "test.sh: could not start PostgreSQL (see $pg_dir/server.log)" >&2; exit 1; }
  done
  export FEDERATED_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
  echo "test.sh: PostgreSQL for the cluster tests on 127.0.0.1:$pg_port"
fi

dotnet test Federated.sln "$@"

#!/bin/sh
# Installs the client daemon as a systemd service: the user federated-client, the unit, and (with --now, the
# default) starts it. Run as root from the published folder, once it is at /opt/federated-client and
# `Federated.Client enrol` has written /etc/federated/client.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "install-systemd.sh: run as root (sudo)" >&2; exit 1; fi
if [ "$here" != /opt/federated-client ]; then
    echo "install-systemd.sh: the unit runs /opt/federated-client/Federated.Client; this folder is $here (copy it there first)" >&2
    exit 1
fi
if [ ! -f /etc/federated/client.json ]; then
    echo "install-systemd.sh: /etc/federated/client.json is missing; run first:" >&2
    echo "  sudo /opt/federated-client/Federated.Client enrol --server ADDRESS --join-token TOKEN [--data PATH]" >&2
    exit 1
fi
if ! id federated-client >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/federated-client --no-create-home --shell /usr/sbin/nologin federated-client
fi
install -m 0644 "$here/federated-client.service" /etc/systemd/system/federated-client.service
systemctl daemon-reload
if [ "${1:-}" = "--no-start" ]; then
    systemctl enable federated-client
    echo "Installed; start with: sudo systemctl start federated-client"
else
    systemctl enable --now federated-client
    echo "Started; follow it with: journalctl -u federated-client -f"
fi

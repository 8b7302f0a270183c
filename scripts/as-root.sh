#!/usr/bin/env bash
# Sourced by lab.sh and test.sh: they need root (network namespaces, /dev/net/tun, apt-get). As root (a fresh
# Debian machine has no sudo) nothing happens; as a user with sudo the script runs itself again through sudo,
# keeping PATH so the same node is used (sudo's secure_path would hide one from nvm or setup-node), plus the
# sbin directories a Debian user's PATH lacks (ip, sysctl, iptables).
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo env "PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin" bash "$0" "$@"
  fi
  echo "$(basename "$0"): needs root (network namespaces, /dev/net/tun, Debian packages): run it as root, or install sudo" >&2
  exit 1
fi

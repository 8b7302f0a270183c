/**
 * `lr-connect`: the end user's launcher. It derives a stable hardware ID, refuses a bundle that is open to other
 * users or holds a directive outside the rendered set, and runs OpenVPN with the ID, the tenant's DNS applied
 * while the tunnel is up and a kill-switch while OpenVPN runs. Pure: no `@pulumi/*` import.
 */
import type { TenantPlan } from "../plan/types";
import { clientBundleName } from "./client-bundle";
import { scriptFile } from "./script-file";

const LAUNCHER_BODY = scriptFile("lr-connect.sh");

/** File name the tenant receives next to the bundle. */
export const LAUNCHER_NAME = "lr-connect";

/**
 * Every directive renderClientBundle writes (globals and `<connection>` lines). The launcher refuses any other:
 * it passes `--script-security 2` for its DNS hook, so an added `up`, `route-up`, `plugin` or `config` line
 * would run as root. None of these runs a program or names a file.
 */
export const BUNDLE_DIRECTIVES = [
  "client", "dev", "nobind", "server-poll-timeout", "connect-retry", "remote-cert-tls", "verify-x509-name",
  "tls-version-min", "data-ciphers", "ifconfig-ipv6", "redirect-gateway", "block-ipv6", "ignore-unknown-option",
  "block-outside-dns", "push-peer-info", "auth-retry", "disable-dco", "verb", "persist-key",
  "remote", "explicit-exit-notify", "tun-mtu", "mssfix",
] as const;

/** The inline blocks of the bundle (key material only; `<connection>` is handled apart). */
export const BUNDLE_INLINE_TAGS = ["ca", "cert", "key", "tls-crypt-v2"] as const;

/**
 * The launcher script for `tenant`. `lr-connect --print-id` prints the ID ops pin as `tenants.<key>.hardwareId`;
 * `lr-connect [--no-kill-switch] [--dns auto|resolved|resolvconf|file|off] [bundle.ovpn] [openvpn args…]` runs
 * `openvpn --config <bundle> --setenv UV_HWID <id>` (a command-line `--setenv UV_*` is pushed by `push-peer-info`
 * exactly like one in the file). The ID is the SHA-256 of machine-id, root-disk serial/WWN and CPU identity; any
 * part that cannot be read counts as empty.
 */
export function renderLauncher(stack: string, tenant: TenantPlan): string {
  return `#!/bin/sh
# lr-connect: connect ${tenant.key} to LibreRouter hosting (${stack}) with this machine's hardware ID.
#   lr-connect --print-id                 print the ID (send it to your operator to pin)
#   sudo sh lr-connect [--no-kill-switch] [--dns auto|resolved|resolvconf|file|off] [bundle.ovpn] [openvpn options...]
# Needs openvpn, and iptables or nft for the kill-switch; connecting needs root (tun device, routes, DNS).
# The bundle must be yours or root's and private (chmod 600).
set -u
LC_ALL=C
export LC_ALL
BUNDLE_NAME=${clientBundleName(tenant)}
LR_DIRECTIVES="${BUNDLE_DIRECTIVES.join(" ")}"
LR_INLINE="${BUNDLE_INLINE_TAGS.join(" ")}"
${LAUNCHER_BODY}`;
}

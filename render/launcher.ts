/**
 * `lr-connect`: the end user's launcher. It derives a stable hardware ID and starts OpenVPN with it, so the
 * server's auth hook can compare it with the tenant's pin. Pure: no `@pulumi/*` import.
 */
import type { TenantPlan } from "../plan/types";
import { clientBundleName } from "./client-bundle";
import { scriptFile } from "./script-file";

const LAUNCHER_BODY = scriptFile("lr-connect.sh");

/** File name the tenant receives next to the bundle. */
export const LAUNCHER_NAME = "lr-connect";

/**
 * The launcher script for `tenant`. `lr-connect --print-id` prints the ID ops pin as `tenants.<key>.hardwareId`;
 * `lr-connect [bundle.ovpn] [openvpn args…]` runs `openvpn --config <bundle> --setenv UV_HWID <id>` (a command-line
 * `--setenv UV_*` is pushed by `push-peer-info` exactly like one in the file). The ID is the SHA-256 of
 * machine-id, root-disk serial/WWN and CPU identity; any part that cannot be read counts as empty.
 */
export function renderLauncher(stack: string, tenant: TenantPlan): string {
  return `#!/bin/sh
# lr-connect: connect ${tenant.key} to LibreRouter hosting (${stack}) with this machine's hardware ID.
#   lr-connect --print-id                 print the ID (send it to your operator to pin)
#   lr-connect [bundle.ovpn] [openvpn options...]
# Needs openvpn; connecting needs root (tun device and routes).
set -u
LC_ALL=C
export LC_ALL
BUNDLE_NAME=${clientBundleName(tenant)}
${LAUNCHER_BODY}`;
}

/**
 * What a tenant's per-server command sends on stdin (`tenantServerScripts`): apply writes the tenant's env file,
 * pins and ccd files and runs `lr-dataplane apply <key>`; delete locks the tenant out (ccd files first), removes
 * its pins and runs `lr-dataplane delete <key>`. The component, the lab and the bench all call this one
 * function. Pure: no `@pulumi/*` import.
 */
import { HWID } from "../config/schema";
import type { Plan, ServerPlan, TenantPlan } from "../plan/types";
import { dataplaneToolPath } from "./dataplane";
import { renderTenantEnv, tenantEnvPath } from "./dataplane-env";
import { renderCcd } from "./ccd";
import { LR_WRITE_FN, shq, writeFile } from "./shell";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { certFingerprint, clientCommonName } from "./pki-profile";
import { CONSOLE_READ_GROUP, OPENVPN_GROUP } from "./service-user";

/** Owner of the files OpenVPN and its hooks read after the privilege drop (ccd files, pins). */
const HOOKS_READ = `root:${OPENVPN_GROUP}`;

/** Where the tenant's files live on a server: env, ccd per proto, ops pin, certificate pin, tls-crypt-v2 pin, first-use enrolment. */
export function tenantFilePaths(
  layout: ServerLayout,
  tenant: TenantPlan,
): { env: string; ccd: { udp: string; tcp: string }; pin: string; certPin: string; tc2Pin: string; enrolled: string } {
  const p = openvpnFilePaths(layout);
  const cn = clientCommonName(tenant);
  return {
    env: tenantEnvPath(layout, tenant),
    ccd: { udp: `${p.ccdDirs.udp}/${cn}`, tcp: `${p.ccdDirs.tcp}/${cn}` },
    pin: `${p.pinsDir}/${cn}`,
    certPin: `${p.certPinsDir}/${cn}`,
    tc2Pin: `${p.tc2PinsDir}/${cn}`,
    enrolled: `${p.enrolledDir}/${cn}`,
  };
}

function header(stack: string, server: ServerPlan, tenant: TenantPlan, what: string): string {
  return `#!/bin/bash
# ${what} tenant ${tenant.key} on ${server.name} (stack ${stack}); rendered by librerouter-hosting, do not edit.
set -euo pipefail
umask 077
export LC_ALL=C
`;
}

/**
 * The tenant's apply and delete scripts on `server`: its ccd file per instance (renderCcd), its env file, its
 * ops pin (`tenant.hardwareId`, none = enrolment rules) and its certificate pin (the fingerprint of `certPem`,
 * the tenant's current client certificate: a re-issued certificate changes the apply script) and its tls-crypt-v2
 * pin (`tc2KeyId`, the key id in its current client key's metadata: render/tls-crypt-v2.ts clientKeyId).
 */
export function tenantServerScripts(
  plan: Plan,
  server: ServerPlan,
  tenant: TenantPlan,
  layout: ServerLayout,
  certPem: string,
  tc2KeyId: string,
): { apply: string; delete: string } {
  const [udp, tcp] = server.instances;
  const ccd = { udp: renderCcd(plan.stack, tenant, udp), tcp: renderCcd(plan.stack, tenant, tcp) };
  const env = renderTenantEnv(plan.stack, server, tenant, plan.nodes);
  const pins = { hardware: tenant.hardwareId, cert: certFingerprint(certPem), tc2: tc2KeyId };
  return { apply: applyScript(plan.stack, server, tenant, layout, env, ccd, pins), delete: deleteScript(plan.stack, server, tenant, layout, env) };
}

/**
 * Apply: env file, then the data plane, then the pins, and the ccd files last (they are what lets the tenant
 * in, so it never connects before its routes exist). No hardware pin: an earlier ops pin is removed (enrolment
 * rules). A certificate or tls-crypt-v2 pin that replaces another one (a re-issued certificate or client key) drops
 * the tenant's live sessions on this server: the hooks check only new sessions, so the old key's session ends now
 * and its reconnect is refused (by the tls-crypt-v2 hook before TLS, by the auth hook for an old certificate).
 */
function applyScript(
  stack: string,
  server: ServerPlan,
  tenant: TenantPlan,
  layout: ServerLayout,
  env: string,
  ccd: { udp: string; tcp: string },
  pins: { hardware: string | undefined; cert: string; tc2: string },
): string {
  const f = tenantFilePaths(layout, tenant);
  const pin = pins.hardware;
  if (pin !== undefined && !HWID.test(pin.toLowerCase())) throw new Error(`tenant ${tenant.key}: pin is not a 64-hex ID or a MAC`);
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/.test(pins.cert)) throw new Error(`tenant ${tenant.key}: certificate pin is not a SHA-256 fingerprint`);
  if (!/^[0-9a-f]{16}$/.test(pins.tc2)) throw new Error(`tenant ${tenant.key}: tls-crypt-v2 pin is not a key id (16 lowercase hex digits)`);
  const pinStep = pin === undefined ? `rm -f ${shq(f.pin)}` : writeFile({ path: f.pin, mode: "0640", content: `${pin.toLowerCase()}\n` }, HOOKS_READ);
  return `${header(stack, server, tenant, "Apply")}
${LR_WRITE_FN}

${writeFile({ path: f.env, mode: "0640", content: env }, `root:${CONSOLE_READ_GROUP}`)}
${shq(dataplaneToolPath(layout))} apply ${tenant.key}
${pinStep}
cert_rotated=no
if [[ -f ${shq(f.certPin)} ]]; then cert_rotated=yes; fi
tc2_rotated=no
if [[ -f ${shq(f.tc2Pin)} ]]; then tc2_rotated=yes; fi
${writeFile({ path: f.certPin, mode: "0640", content: `${pins.cert}\n` }, HOOKS_READ)}
${writeFile({ path: f.tc2Pin, mode: "0640", content: `${pins.tc2}\n` }, HOOKS_READ)}
if [[ $cert_rotated == yes && " \${CHANGED[*]} " == *${shq(` ${f.certPin} `)}* ]] || [[ $tc2_rotated == yes && " \${CHANGED[*]} " == *${shq(` ${f.tc2Pin} `)}* ]]; then
  ${shq(dataplaneToolPath(layout))} kill ${tenant.key}
fi
${writeFile({ path: f.ccd.udp, mode: "0640", content: ccd.udp }, HOOKS_READ)}
${writeFile({ path: f.ccd.tcp, mode: "0640", content: ccd.tcp }, HOOKS_READ)}
printf '%s on %s: applied, %s files changed\\n' ${tenant.key} ${server.name} "\${#CHANGED[@]}"
`;
}

/**
 * Delete: the ccd files go first (instant lockout through ccd-exclusive, so a killed session cannot come
 * back), then the pins and the enrolment, then `lr-dataplane delete` (kills live sessions, removes links, rules, DNAT and the
 * env file). The env file is rewritten first so the delete knows what to remove even if it was lost.
 */
function deleteScript(stack: string, server: ServerPlan, tenant: TenantPlan, layout: ServerLayout, env: string): string {
  const f = tenantFilePaths(layout, tenant);
  return `${header(stack, server, tenant, "Delete")}
${LR_WRITE_FN}

rm -f ${[f.ccd.udp, f.ccd.tcp, f.pin, f.certPin, f.tc2Pin, f.enrolled].map(shq).join(" ")}
${writeFile({ path: f.env, mode: "0640", content: env }, `root:${CONSOLE_READ_GROUP}`)}
${shq(dataplaneToolPath(layout))} delete ${tenant.key}
printf '%s on %s: deleted\\n' ${tenant.key} ${server.name}
`;
}

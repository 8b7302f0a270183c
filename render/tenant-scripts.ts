/**
 * What a tenant's per-server command sends on stdin (`tenantServerScripts`): apply writes the tenant's env file,
 * pin and ccd files and runs `lr-dataplane apply <key>`; delete locks the tenant out (ccd files first), removes
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
import { clientCommonName } from "./pki-profile";

/** Where the tenant's files live on a server: env, ccd per proto, ops pin, first-use enrolment. */
export function tenantFilePaths(layout: ServerLayout, tenant: TenantPlan): { env: string; ccd: { udp: string; tcp: string }; pin: string; enrolled: string } {
  const p = openvpnFilePaths(layout);
  const cn = clientCommonName(tenant);
  return {
    env: tenantEnvPath(layout, tenant),
    ccd: { udp: `${p.ccdDirs.udp}/${cn}`, tcp: `${p.ccdDirs.tcp}/${cn}` },
    pin: `${p.pinsDir}/${cn}`,
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
 * The tenant's apply and delete scripts on `server`: its ccd file per instance (renderCcd), its env file and its
 * ops pin (`tenant.hardwareId`, none = enrolment rules).
 */
export function tenantServerScripts(plan: Plan, server: ServerPlan, tenant: TenantPlan, layout: ServerLayout): { apply: string; delete: string } {
  const [udp, tcp] = server.instances;
  const ccd = { udp: renderCcd(plan.stack, tenant, udp), tcp: renderCcd(plan.stack, tenant, tcp) };
  const env = renderTenantEnv(plan.stack, server, tenant);
  return { apply: applyScript(plan.stack, server, tenant, layout, env, ccd, tenant.hardwareId), delete: deleteScript(plan.stack, server, tenant, layout, env) };
}

/**
 * Apply: env file, then the data plane, then the pin, and the ccd files last (they are what lets the tenant
 * in, so it never connects before its routes exist). No pin: an earlier ops pin is removed (enrolment rules).
 */
function applyScript(stack: string, server: ServerPlan, tenant: TenantPlan, layout: ServerLayout, env: string, ccd: { udp: string; tcp: string }, pin: string | undefined): string {
  const f = tenantFilePaths(layout, tenant);
  if (pin !== undefined && !HWID.test(pin.toLowerCase())) throw new Error(`tenant ${tenant.key}: pin is not a 64-hex ID or a MAC`);
  const pinStep = pin === undefined ? `rm -f ${shq(f.pin)}` : writeFile({ path: f.pin, mode: "0640", content: `${pin.toLowerCase()}\n` }, "root:nogroup");
  return `${header(stack, server, tenant, "Apply")}
${LR_WRITE_FN}

${writeFile({ path: f.env, mode: "0640", content: env }, "root:root")}
${shq(dataplaneToolPath(layout))} apply ${tenant.key}
${pinStep}
${writeFile({ path: f.ccd.udp, mode: "0640", content: ccd.udp }, "root:nogroup")}
${writeFile({ path: f.ccd.tcp, mode: "0640", content: ccd.tcp }, "root:nogroup")}
printf '%s on %s: applied, %s files changed\\n' ${tenant.key} ${server.name} "\${#CHANGED[@]}"
`;
}

/**
 * Delete: the ccd files go first (instant lockout through ccd-exclusive, so a killed session cannot come
 * back), then both pins, then `lr-dataplane delete` (kills live sessions, removes links, rules, DNAT and the
 * env file). The env file is rewritten first so the delete knows what to remove even if it was lost.
 */
function deleteScript(stack: string, server: ServerPlan, tenant: TenantPlan, layout: ServerLayout, env: string): string {
  const f = tenantFilePaths(layout, tenant);
  return `${header(stack, server, tenant, "Delete")}
${LR_WRITE_FN}

rm -f ${[f.ccd.udp, f.ccd.tcp, f.pin, f.enrolled].map(shq).join(" ")}
${writeFile({ path: f.env, mode: "0640", content: env }, "root:root")}
${shq(dataplaneToolPath(layout))} delete ${tenant.key}
printf '%s on %s: deleted\\n' ${tenant.key} ${server.name}
`;
}

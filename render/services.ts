/**
 * The common-services VM's apply/delete scripts: BIND as the tenants' resolver and as the authoritative server
 * of the reverse zones of the public pools (zone text from render/reverse-dns.ts). Pure text, no `@pulumi/*`;
 * rendered here so the lab and tests can run it like every other script.
 */
import type { Plan } from "../plan/types";
import { LR_WRITE_FN, shq, writeFile } from "./shell";
import { SERVICES_PACKAGES, ensurePackages } from "./guest-packages";
import { reverseZones } from "./reverse-dns";

export const BIND_DIR = "/etc/bind";
export const ZONE_DIR = `${BIND_DIR}/librerouter`;
export const ZONES_CONF = `${BIND_DIR}/named.conf.librerouter`;
export const OPTIONS_CONF = `${BIND_DIR}/named.conf.options`;
/** Debian's own options file, kept on first apply and put back by delete. */
export const OPTIONS_ORIG = `${OPTIONS_CONF}.debian`;
const INCLUDE = `include "${ZONES_CONF}";`;

/** named.conf.options: recursion only for the pools, the management network and localhost; zones answer anyone. */
export function renderBindOptions(plan: Plan): string {
  const clients = ["127.0.0.0/8", plan.mgmt.cidr, ...plan.publicPools.map((p) => p.cidr)];
  return [
    `// Rendered by librerouter-hosting (stack ${plan.stack}), do not edit.`,
    `acl librerouter_clients { ${clients.map((c) => `${c};`).join(" ")} };`,
    "options {",
    '\tdirectory "/var/cache/bind";',
    "\trecursion yes;",
    "\tallow-recursion { librerouter_clients; };",
    "\tallow-query-cache { librerouter_clients; };",
    "\tallow-query { any; };",
    "\tallow-transfer { none; };",
    "\tdnssec-validation auto;",
    "\tlisten-on { any; };",
    "\tlisten-on-v6 { none; };",
    "};",
    "",
  ].join("\n");
}

/** Apply and delete scripts for the services VM; both idempotent. */
export function servicesScripts(plan: Plan): { apply: string; delete: string } {
  const zones = reverseZones(plan);
  const zoneConf = [
    `// Reverse zones of the public pools (stack ${plan.stack}); rendered by librerouter-hosting, do not edit.`,
    ...zones.map((z) => `zone "${z.name}" { type primary; file "${ZONE_DIR}/${z.fileName}"; };`),
    "",
  ].join("\n");
  const head = (what: string) => `#!/bin/bash
# ${what} of the common services (stack ${plan.stack}): BIND resolver and reverse zones; rendered, do not edit.
set -euo pipefail
umask 022
export LC_ALL=C
`;
  const apply = `${head("Setup")}${ensurePackages(SERVICES_PACKAGES)}
${LR_WRITE_FN}

if [[ ! -e ${shq(OPTIONS_ORIG)} ]]; then cp -p ${shq(OPTIONS_CONF)} ${shq(OPTIONS_ORIG)}; fi
${[...zones.map((z) => ({ path: `${ZONE_DIR}/${z.fileName}`, mode: "0644", content: z.content })), { path: ZONES_CONF, mode: "0644", content: zoneConf }, { path: OPTIONS_CONF, mode: "0644", content: renderBindOptions(plan) }]
  .map((f) => writeFile(f, "root:bind"))
  .join("\n")}
if ! grep -qxF ${shq(INCLUDE)} ${shq(`${BIND_DIR}/named.conf.local`)}; then
  printf '%s\\n' ${shq(INCLUDE)} >>${shq(`${BIND_DIR}/named.conf.local`)}
fi
named-checkconf
${zones.map((z) => `named-checkzone -q ${shq(z.name)} ${shq(`${ZONE_DIR}/${z.fileName}`)}`).join("\n")}
systemctl enable named
systemctl reload-or-restart named
printf 'services: %s zones, %s files changed\\n' ${zones.length} "\${#CHANGED[@]}"
`;
  const del = `${head("Removal")}
if [[ -e ${shq(`${BIND_DIR}/named.conf.local`)} ]]; then
  grep -vxF ${shq(INCLUDE)} ${shq(`${BIND_DIR}/named.conf.local`)} >${shq(`${BIND_DIR}/named.conf.local.lrtmp`)} || true
  mv -f ${shq(`${BIND_DIR}/named.conf.local.lrtmp`)} ${shq(`${BIND_DIR}/named.conf.local`)}
fi
rm -rf ${shq(ZONE_DIR)} ${shq(ZONES_CONF)}
if [[ -e ${shq(OPTIONS_ORIG)} ]]; then mv -f ${shq(OPTIONS_ORIG)} ${shq(OPTIONS_CONF)}; fi
if command -v named >/dev/null 2>&1; then systemctl reload-or-restart named; fi
printf 'services: reverse zones removed\\n'
`;
  return { apply, delete: del };
}

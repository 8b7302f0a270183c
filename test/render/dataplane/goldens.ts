/**
 * The golden set of the data-plane texts: every rendered artifact of the 2-tenant plan, production layouts; and
 * what the `fixed` tenant-network mode renders differently (the tool with its lr_lan table, the env files); and what a
 * two-node stack under `sdn` renders (`*.sdn.*`: vxlan links, consoles on the tenant's node, no trunk NIC).
 */
import { join } from "node:path";
import { renderDataplaneTool, renderDataplaneUnit } from "../../../render/dataplane";
import { renderTenantEnv } from "../../../render/dataplane-env";
import { hostConsoleFirewallScripts, renderHostConsoleFirewall, renderHostFirewallUnit } from "../../../render/host-console";
import { PRODUCTION_HOST_LAYOUT, PRODUCTION_SERVER_LAYOUT, serverLayoutFor } from "../../../render/layout";
import { reverseZones } from "../../../render/reverse-dns";
import { renderServerSetupScript } from "../../../render/server-setup";
import { tenantServerScripts } from "../../../render/tenant-scripts";
import { trunkNicFiles } from "../../../render/trunk-nic";
import { renderKvmArguments } from "../../../render/vnc";
import type { GoldenSet } from "../golden";
import { twoTenantPlan } from "./fixture";
import { sdnPlan } from "./sdn-fixture";

/** A placeholder key the setup script must carry only as base64. */
/** A real self-signed P-256 certificate (CN acme; its key was thrown away): the tenant scripts pin its fingerprint. */
export const GOLDEN_CERT = "-----BEGIN CERTIFICATE-----\nMIIBczCCARmgAwIBAgIUPnjgNCnOkek9+EZ/mO3p2hXrI3EwCgYIKoZIzj0EAwIw\nDzENMAsGA1UEAwwEYWNtZTAeFw0yNjEyMDEyMjEwMzFaFw0zNjExMjgyMjEwMzFa\nMA8xDTALBgNVBAMMBGFjbWUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARVnm8S\nwF8E3YaC8ZEQeoKVa8RiEuEupfBtXlq+8nAc7GXyS+9NAf2/a6cmZXupUSYIMY5Q\nrl1rQrp48RinEGZEo1MwUTAdBgNVHQ4EFgQUknesEtrwtHMRP/Bghpf2Z938e8Mw\nHwYDVR0jBBgwFoAUknesEtrwtHMRP/Bghpf2Z938e8MwDwYDVR0TAQH/BAUwAwEB\n/zAKBggqhkjOPQQDAgNIADBFAiEAvl8PZR2rK3uX2sF2qA+nsFdA73R0Rm4beAq1\nNvxP8JICIDKaXP7vYe7oI7Ybmx3Auwg28/H4kfTyn5sUeraOudVR\n-----END CERTIFICATE-----\n";
/** The tls-crypt-v2 key id the tenant scripts pin (render/tls-crypt-v2.ts clientKeyId). */
export const GOLDEN_TC2_ID = "0123456789abcdef";
export const GOLDEN_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGOLDENGOLDENGOLDENGOLDENGOLDENGOLDEN\n-----END PRIVATE KEY-----\n";

/** The same two tenants in `fixed` mode: lr-dataplane of each server and an env file of each. */
function fixedModeGoldens(): [string, string][] {
  const plan = twoTenantPlan("fixed");
  const [vpn1, vpn2] = plan.servers;
  const [acme, coop] = plan.tenants;
  const L = PRODUCTION_SERVER_LAYOUT;
  return [
    ["lr-dataplane.fixed.vpn1.sh", renderDataplaneTool(plan, vpn1, L)],
    ["lr-dataplane.fixed.vpn2.sh", renderDataplaneTool(plan, vpn2, L)],
    ["acme.fixed.vpn1.env", renderTenantEnv(plan.stack, vpn1, acme)],
    ["coop-sur.fixed.vpn2.env", renderTenantEnv(plan.stack, vpn2, coop)],
  ];
}

/**
 * The two-node VXLAN plan (sdn-fixture.ts) in the layout the program gives it (eth1 management, no trunk): the tool with
 * vxlan links, the setup script without a trunk NIC, env files.
 */
function sdnGoldens(): [string, string][] {
  const plan = sdnPlan();
  const fixed = sdnPlan("fixed");
  const [vpn1, vpn2] = plan.servers;
  const [acme, coop] = plan.tenants;
  const L = serverLayoutFor(plan);
  return [
    ["lr-dataplane.sdn.vpn1.sh", renderDataplaneTool(plan, vpn1, L)],
    ["lr-dataplane.sdn.fixed.vpn2.sh", renderDataplaneTool(fixed, fixed.servers[1], L)],
    ["setup.sdn.vpn1.sh", renderServerSetupScript(fixed, fixed.servers[0], L, [{ path: `${L.openvpnDir}/pki/server.key`, mode: "0600", content: GOLDEN_KEY }])],
    ["acme.sdn.vpn1.env", renderTenantEnv(plan.stack, vpn1, acme, plan.nodes)],
    ["coop-sur.sdn.vpn2.env", renderTenantEnv(plan.stack, vpn2, coop, plan.nodes)],
    ["tenant-apply.coop-sur.sdn.vpn1.sh", tenantServerScripts(plan, vpn1, coop, L, GOLDEN_CERT, GOLDEN_TC2_ID).apply],
    ["tenant-delete.coop-sur.sdn.vpn1.sh", tenantServerScripts(plan, vpn1, coop, L, GOLDEN_CERT, GOLDEN_TC2_ID).delete],
    // pve-b's own console firewall: the plan as plan/cluster.ts nodeView gives it to that node.
    ["host-console.sdn.pve-b.sh", renderHostConsoleFirewall({ ...plan, host: { ...plan.host, node: "pve-b", mgmtIp: "192.168.100.20" } }, PRODUCTION_HOST_LAYOUT)],
  ];
}

export function dataplaneGoldens(): GoldenSet {
  const plan = twoTenantPlan();
  const [vpn1, vpn2] = plan.servers;
  const [acme, coop] = plan.tenants;
  const L = PRODUCTION_SERVER_LAYOUT;
  const H = PRODUCTION_HOST_LAYOUT;
  const host = hostConsoleFirewallScripts(plan, H);
  const artifacts: [string, string][] = [
    ["lr-dataplane.vpn1.sh", renderDataplaneTool(plan, vpn1, L)],
    ["lr-dataplane.vpn2.sh", renderDataplaneTool(plan, vpn2, L)],
    ["librerouter-dataplane.service", renderDataplaneUnit(vpn1, L)],
    ["setup.vpn1.sh", renderServerSetupScript(plan, vpn1, L, [{ path: `${L.openvpnDir}/pki/server.key`, mode: "0600", content: GOLDEN_KEY }], { trunkMac: "BC:24:11:5E:00:01" })],
    ...trunkNicFiles(L, "bc:24:11:5e:00:01").map((f): [string, string] => [f.path.split("/").pop() ?? "", f.content]),
    ["acme.vpn1.env", renderTenantEnv(plan.stack, vpn1, acme)],
    ["coop-sur.vpn2.env", renderTenantEnv(plan.stack, vpn2, coop)],
    ["tenant-apply.acme.vpn1.sh", tenantServerScripts(plan, vpn1, acme, L, GOLDEN_CERT, GOLDEN_TC2_ID).apply],
    ["tenant-apply.coop-sur.vpn1.sh", tenantServerScripts(plan, vpn1, coop, L, GOLDEN_CERT, GOLDEN_TC2_ID).apply],
    ["tenant-delete.acme.vpn1.sh", tenantServerScripts(plan, vpn1, acme, L, GOLDEN_CERT, GOLDEN_TC2_ID).delete],
    ["host-console.sh", renderHostConsoleFirewall(plan, H)],
    ["librerouter-console-firewall.service", renderHostFirewallUnit(plan, H)],
    ["host-console-install.sh", host.apply],
    ["host-console-remove.sh", host.delete],
    ["kvm-args.acme.txt", `${renderKvmArguments(plan, acme, H)}\n`],
    ...reverseZones(plan).map((z): [string, string] => [z.fileName, z.content]),
    ...fixedModeGoldens(),
    ...sdnGoldens(),
  ];
  return { dir: join(__dirname, "golden"), files: new Map(artifacts) };
}

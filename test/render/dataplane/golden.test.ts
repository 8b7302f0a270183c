/**
 * Golden files for the 2-tenant plan: every rendered data-plane artifact, byte for byte, so a reviewer sees
 * each change. Regenerate with UPDATE_GOLDEN=1 after checking the diff. Every script is also shellcheck-clean.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderDataplaneTool, renderDataplaneUnit } from "../../../render/dataplane";
import { renderTenantEnv } from "../../../render/dataplane-env";
import { hostConsoleFirewallScripts, renderHostConsoleFirewall, renderHostFirewallUnit } from "../../../render/host-console";
import { PRODUCTION_HOST_LAYOUT, PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { reverseZones } from "../../../render/reverse-dns";
import { renderServerSetupScript } from "../../../render/server-setup";
import { renderTenantApplyScript, renderTenantDeleteScript } from "../../../render/tenant-scripts";
import { trunkNicFiles } from "../../../render/trunk-nic";
import { renderKvmArguments } from "../../../render/vnc";
import { shellcheck } from "../../tools/shellcheck";
import { twoTenantPlan } from "./fixture";

const DIR = join(__dirname, "golden");
const plan = twoTenantPlan();
const [vpn1, vpn2] = plan.servers;
const [acme, coop] = plan.tenants;
const L = PRODUCTION_SERVER_LAYOUT;
const KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGOLDENGOLDENGOLDENGOLDENGOLDENGOLDEN\n-----END PRIVATE KEY-----\n";
const ccd = (t: typeof acme) => ({ udp: `ifconfig-push ${t.tunnelIps["vpn1-udp"]} 255.255.192.0\n`, tcp: `ifconfig-push ${t.tunnelIps["vpn1-tcp"]} 255.255.192.0\n` });

const artifacts: [string, string][] = [
  ["lr-dataplane.vpn1.sh", renderDataplaneTool(plan, vpn1, L)],
  ["lr-dataplane.vpn2.sh", renderDataplaneTool(plan, vpn2, L)],
  ["librerouter-dataplane.service", renderDataplaneUnit(vpn1, L)],
  ["setup.vpn1.sh", renderServerSetupScript(plan, vpn1, L, [{ path: `${L.openvpnDir}/pki/server.key`, mode: "0600", content: KEY }], { trunkMac: "BC:24:11:5E:00:01" })],
  ...trunkNicFiles(L, "bc:24:11:5e:00:01").map((f): [string, string] => [f.path.split("/").pop() ?? "", f.content]),
  ["acme.vpn1.env", renderTenantEnv(plan, vpn1, acme)],
  ["coop-sur.vpn2.env", renderTenantEnv(plan, vpn2, coop)],
  ["tenant-apply.acme.vpn1.sh", renderTenantApplyScript(plan, vpn1, acme, L, ccd(acme), acme.hardwareId)],
  ["tenant-apply.coop-sur.vpn1.sh", renderTenantApplyScript(plan, vpn1, coop, L, ccd(coop))],
  ["tenant-delete.acme.vpn1.sh", renderTenantDeleteScript(plan, vpn1, acme, L)],
  ["host-console.sh", renderHostConsoleFirewall(plan, PRODUCTION_HOST_LAYOUT)],
  ["librerouter-console-firewall.service", renderHostFirewallUnit(plan, PRODUCTION_HOST_LAYOUT)],
  ["host-console-install.sh", hostConsoleFirewallScripts(plan, PRODUCTION_HOST_LAYOUT).apply],
  ["host-console-remove.sh", hostConsoleFirewallScripts(plan, PRODUCTION_HOST_LAYOUT).delete],
  ["kvm-args.acme.txt", `${renderKvmArguments(plan, acme, PRODUCTION_HOST_LAYOUT)}\n`],
  ...reverseZones(plan).map((z): [string, string] => [z.fileName, z.content]),
];

describe("golden files (2-tenant plan)", () => {
  it.each(artifacts)("%s", (name, text) => {
    const file = join(DIR, name);
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, text);
    expect(existsSync(file)).toBe(true);
    expect(text).toBe(readFileSync(file, "utf8"));
  });

  it.each(artifacts.filter(([n]) => n.endsWith(".sh")))("%s is shellcheck-clean", (_name, text) => {
    expect(shellcheck(text)).toEqual({ ok: true, report: "" });
  });


  it("the setup script carries the key only as base64, never in clear", () => {
    const setup = artifacts.find(([n]) => n === "setup.vpn1.sh")?.[1] ?? "";
    expect(setup).not.toContain("GOLDENGOLDEN");
    expect(setup).toContain(Buffer.from(KEY).toString("base64").slice(0, 60));
    expect(setup).not.toMatch(/set -x|cat "\$/);
  });
});

/**
 * Brings a Lab up in order: plan, topology and PKI; in fixed mode the services VM's DHCP and every tenant router's
 * public address from it; consoles; both VPN servers; every tenant's client.
 */
import { startClient } from "./clients";
import { applyHostFirewall, startConsole } from "./consoles";
import type { Lab } from "./lab";
import { setupServer, startInstance } from "./servers";
import { routersByDhcp, setupDhcp } from "./services";

/** Everything up and connected; throws at the first failing step (the caller tears down). */
export async function bringUp(lab: Lab): Promise<void> {
  await lab.prepare();
  if (lab.plan.tenantNetwork.mode === "fixed") {
    await lab.step("services dhcp (rendered apply, dnsmasq as its unit starts it)", () => setupDhcp(lab));
    await lab.step(`${lab.plan.tenants.length} routers' public addresses by DHCP`, () => routersByDhcp(lab));
  }
  await lab.step("host console firewall", () => applyHostFirewall(lab));
  await Promise.all(lab.plan.tenants.map((t) => lab.step(`host qemu ${t.vmName} vnc :${t.vnc.port}`, () => startConsole(lab, t))));
  for (const s of lab.plan.servers) await lab.step(`${s.name} setup + ${lab.plan.tenants.length} tenant applies`, () => setupServer(lab, s.name));
  for (const s of lab.plan.servers) {
    for (const inst of s.instances) await lab.step(`${s.name} ${inst.proto} up`, () => startInstance(lab, s.name, inst.proto));
  }
  await Promise.all(lab.plan.tenants.map((t) => lab.step(`client ${t.key} connected`, () => startClient(lab, t))));
}

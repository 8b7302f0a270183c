/**
 * Brings a Lab up in order: plan, topology and PKI; in fixed mode the services VM's DHCP and every tenant router's
 * public address from it; consoles; both VPN servers; every tenant's client. The ban grid (./bans.ts) comes up
 * beside all of that once the topology and PKI exist: it needs nothing else (its agents follow the VPN servers'
 * logs from their start), and its daemons' start-up is most of its time.
 */
import { startGrid } from "./bans";
import { startClient } from "./clients";
import { applyHostFirewall, startConsole } from "./consoles";
import type { Lab } from "./lab";
import { setupServer, startInstance } from "./servers";
import { routersByDhcp, setupDhcp } from "./services";

/** Everything up and connected; throws at the first failing step (the caller tears down). */
export async function bringUp(lab: Lab): Promise<void> {
  await lab.prepare();
  const grid = lab.step("ban grid (rendered setup on 4 members, LAPI, enrolment, agents, bouncers, gateway)", () => startGrid(lab));
  // Settled here so a failure elsewhere leaves no unhandled rejection behind; rethrown below.
  const gridDone = grid.then(
    (detail) => {
      lab.log(`[lab] ban grid: ${detail}`);
      return undefined;
    },
    (e: unknown) => e as Error,
  );
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
  const gridError = await gridDone;
  if (gridError) throw gridError;
}

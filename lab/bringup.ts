/**
 * Brings a Lab up in order: plan, topology and PKI; in fixed mode the services VM's DHCP and every tenant router's
 * public address from it; the host's console firewall and serial bridge, then the tenants' QEMUs (the bridge is there
 * before them, as its unit is ordered before pve-guests); both VPN servers, each with its console gateway after its
 * setup; the monitoring (./monitoring.ts, unless the Lab runs without it); every tenant's client. The ban grid
 * (./bans.ts, unless the Lab runs without it) comes up beside all of that once the topology and PKI exist:
 * it needs nothing else (its agents follow the VPN servers' logs from their start), and its daemons' start-up is most
 * of its time.
 */
import { startGrid } from "./bans";
import { startClient } from "./clients";
import { applyHostFirewall, describeQemuCosts, qemuCosts, startConsole, startConsoleGateway, startSerialBridge } from "./consoles";
import type { Lab } from "./lab";
import { setupServer, startInstance } from "./servers";
import { startMonitoring } from "./check-monitoring";
import { routersByDhcp, setupDhcp } from "./services";

/** Everything up and connected; throws at the first failing step (the caller tears down). */
export async function bringUp(lab: Lab): Promise<void> {
  await lab.prepare();
  const grid = !lab.banGrid ? Promise.resolve("not brought up (no ban check in this run)") : lab.step(`ban grid (rendered setup on ${lab.plan.bans.members.length} members: ${lab.plan.bans.members.map((m) => m.name).join(", ")}; LAPI, enrolment, agents, bouncers, gateway)`, () => startGrid(lab));
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
  // Every node's console firewall and serial bridge (one node: the host's, as always).
  for (const n of lab.plan.nodes) {
    const who = lab.plan.nodes.length > 1 ? `${n.name} ` : "host ";
    await lab.step(`${who}console firewall`, () => applyHostFirewall(lab, n.name));
    await lab.step(`${who}serial bridge (rendered apply, started as its unit)`, () => startSerialBridge(lab, n.name));
  }
  await Promise.all(lab.plan.tenants.map((t) => lab.step(`${lab.plan.nodes.length > 1 ? t.node : "host"} qemu ${t.vmName} (TCG, SeaBIOS) vnc :${t.vnc.port}, serial0 on the bridge`, () => startConsole(lab, t))));
  // What the running QEMUs cost over the whole run, measured at teardown (before they are stopped).
  lab.cleanups.push(() => {
    try {
      lab.log(`[lab] qemu cost over the run (TCG, idle in SeaBIOS): ${describeQemuCosts(qemuCosts(lab))}`);
    } catch (e) {
      lab.log(`[lab] qemu cost: not measured (${(e as Error).message})`);
    }
  });
  for (const s of lab.plan.servers) await lab.step(`${s.name} setup + ${lab.plan.tenants.length} tenant applies`, () => setupServer(lab, s.name));
  await Promise.all(lab.plan.servers.map((s) => lab.step(`${s.name} console gateway (rendered apply, started as its unit)`, () => startConsoleGateway(lab, s.name))));
  for (const s of lab.plan.servers) {
    for (const inst of s.instances) await lab.step(`${s.name} ${inst.proto} up`, () => startInstance(lab, s.name, inst.proto));
  }
  // After the instances: lr-metrics' first run reads their status files. Before the clients: the first report sees them connect.
  if (lab.monitoring) await lab.step("monitoring (node exporters, lr-metrics, Prometheus, Alertmanager)", () => startMonitoring(lab));
  await Promise.all(lab.plan.tenants.map((t) => lab.step(`client ${t.key} connected`, () => startClient(lab, t))));
  const gridError = await gridDone;
  if (gridError) throw gridError;
}

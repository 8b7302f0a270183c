/**
 * The cluster lab's checks (`--hosts 2`, ./hosts.ts), run after every other check: node-failure leaves its node dead.
 */
import type { TenantPlan } from "../plan/types";
import type { Check } from "./checks";
import { consoleOn } from "./check-consoles";
import { connectCount, pushedAddress, startClient, stopClient, waitForConnection } from "./clients";
import { must, run, sleep } from "./exec";
import { nodeOf } from "./hosts";
import { fail } from "./check-kit";
import type { Lab } from "./lab";
import { secs } from "./lab";
import { tcpFetch } from "./probe";
import { readLog } from "./procs";
import { killServer } from "./servers";
import { MARKER_IP, MARKER_PORT } from "./topology";

/** How long the tenants of the surviving node may take to be back (the brief's and the failover check's bound). */
export const NODE_FAILOVER_BOUND_MS = 30_000;

/** The namespaces that die with node `node`: the node itself and every VM on it (VPN servers, services VM, routers). */
export function nodeNamespaces(lab: Lab, node: string): string[] {
  const p = lab.plan;
  return [
    lab.ns.nodes[node] ?? fail(`no namespace for node ${node}`),
    ...p.servers.filter((s) => s.node === node).map((s) => lab.ns[s.name]),
    ...(p.services.node === node ? [lab.ns.svc] : []),
    // The unknown VM runs on the API node.
    ...(node === p.host.node ? [lab.ns.ux] : []),
    ...p.tenants.filter((t) => t.node === node).map((t) => lab.ns.lr[t.key]),
  ];
}

/**
 * A node's power and cables cut: its VPN servers' OpenVPN SIGKILLed first (no exit notification, as in a crash), then
 * every process in its namespaces, every link there down, and its switch ports down.
 */
export async function cutNode(lab: Lab, node: string): Promise<void> {
  for (const s of lab.plan.servers.filter((x) => x.node === node)) await killServer(lab, s.name);
  const spaces = nodeNamespaces(lab, node);
  await Promise.all(
    spaces.map(async (ns) => {
      for (const pid of (await run(["ip", "netns", "pids", ns])).stdout.split("\n").filter((x) => /^\d+$/.test(x))) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          /* gone meanwhile */
        }
      }
    }),
  );
  const sw = lab.ns.sw ?? fail("node-failure needs the cluster lab (--hosts 2): no switch namespace");
  const down = async (ns: string, devs: readonly string[]) => {
    if (devs.length) await must(["ip", "-n", ns, "-batch", "-"], { input: devs.map((d) => `link set dev ${d} down\n`).join("") });
  };
  await down(sw, [`p-${node}`, `m-${node}`]);
  await Promise.all(
    spaces.map(async (ns) => {
      const devs = [...(await must(["ip", "-n", ns, "-o", "link", "show"])).matchAll(/^\d+: ([^:@\s]+)/gm)].map((m) => m[1]).filter((d) => d !== "lo");
      await down(ns, devs);
    }),
  );
  for (const t of lab.plan.tenants.filter((x) => x.node === node)) lab.qemus.delete(t.key);
}

/** How long the control gives every client to be connected and reach its router (delete-clean just cut echo's session). */
const SETTLE_MS = 30_000;

/** Polls until `t`'s client reaches its own router's marker before `deadline`: the time it did, or the last answer. */
async function reachesMarker(lab: Lab, t: TenantPlan, deadline: number): Promise<{ at?: number; last: string }> {
  let last = "";
  while (Date.now() < deadline) {
    const r = await tcpFetch(lab.ns.c[t.key], MARKER_IP, MARKER_PORT, 1000);
    if (r.text === t.key) return { at: Date.now(), last };
    last = r.detail;
    await sleep(100);
  }
  return { last };
}

export const nodeFailureCheck: Check = {
  id: "node-failure",
  title: "vpn1's node cut off (links down, its VMs killed: vpn1 and its tenants): the other node's tenants are back through vpn2 within 30 s",
  async run(lab) {
    const vpn1 = lab.plan.servers.find((s) => s.name === "vpn1")!;
    const vpn2 = lab.plan.servers.find((s) => s.name === "vpn2")!;
    const dead = vpn1.node;
    if (vpn2.node === dead) fail(`control: vpn1 and vpn2 both on ${dead}`);
    const gone = lab.plan.tenants.filter((t) => t.node === dead);
    const kept = lab.plan.tenants.filter((t) => t.node !== dead);
    if (!gone.length || !kept.length) fail(`control: tenants on ${dead}: ${gone.length}, elsewhere: ${kept.length}; both must be non-zero`);
    // Control: before the cut every tenant reaches its router (waiting for a client still reconnecting), and those on
    // vpn2's node do so through vpn1-udp (over VXLAN).
    const settle = Date.now() + SETTLE_MS;
    const sessions = await Promise.all(
      lab.plan.tenants.map(async (t) => {
        const p = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
        const r = await reachesMarker(lab, t, settle);
        if (r.at === undefined) fail(`control: ${t.key} does not reach its router before the cut (${r.last})`);
        if (t.node !== dead && pushedAddress(p.log) !== t.tunnelIps["vpn1-udp"]) fail(`control: ${t.key} is on ${pushedAddress(p.log) || "(none)"}, not vpn1-udp ${t.tunnelIps["vpn1-udp"]}`);
        return { t, p, n: connectCount(p.log) };
      }),
    );
    const t0 = Date.now();
    await cutNode(lab, dead);
    const cutMs = Date.now() - t0;
    const deadline = t0 + NODE_FAILOVER_BOUND_MS;
    const back = await Promise.all(
      sessions
        .filter((s) => s.t.node !== dead)
        .map(async ({ t, p, n }) => {
          await waitForConnection(p, n + 1, Math.max(1, deadline - Date.now())).catch((e: Error) => fail(`${t.key}: no reconnect within ${secs(NODE_FAILOVER_BOUND_MS)}: ${e.message.split("\n")[0]}`));
          const connectedMs = Date.now() - t0;
          const ip = pushedAddress(p.log);
          if (ip !== t.tunnelIps["vpn2-udp"]) fail(`${t.key} came back on ${ip || "(none)"}, plan says vpn2-udp ${t.tunnelIps["vpn2-udp"]}`);
          const r = await reachesMarker(lab, t, deadline);
          if (r.at === undefined) fail(`${t.key}: its router's marker ${MARKER_IP}:${MARKER_PORT} did not answer through vpn2 within ${secs(NODE_FAILOVER_BOUND_MS)} (last: ${r.last})`);
          return { t, connectedMs, ms: r.at - t0 };
        }),
    );
    const worst = Math.max(...back.map((b) => b.ms));
    lab.timings.push(["node-failure", worst]);
    // The cut is real: the dead node's tenants reach nothing (their routers are gone with it), whatever their clients do.
    const still = await Promise.all(gone.map(async (t) => ((await tcpFetch(lab.ns.c[t.key], MARKER_IP, MARKER_PORT, 1500)).ok ? [t.key] : [])));
    if (still.flat().length) fail(`${still.flat().join(", ")} still reach(es) a marker after ${dead} was cut off`);
    const each = back.map((b) => `${b.t.key} (${b.t.node}) on vpn2-udp after ${secs(b.connectedMs)}, router reached after ${secs(b.ms)}`).join("; ");
    return `${dead} cut in ${secs(cutMs)} (vpn1, ${gone.length} tenant(s) dead); ${each}; worst ${secs(worst)} of ${secs(NODE_FAILOVER_BOUND_MS)}`;
  },
};

/** The serial bridge attaches (`vm=<vmid> from=<ip>`) node `node`'s bridge logged since log offset `from`. */
function attachesOn(lab: Lab, node: string, from: number): string[] {
  const bridge = lab.serialBridges.get(node) ?? fail(`${node}: its serial bridge is not running`);
  return [...readLog(bridge.log).slice(from).matchAll(/attach vm=(\d+) from=([\d.]+):/g)].map((m) => `vm=${m[1]} from=${m[2]}`);
}

/**
 * A tenant whose VM runs on the other node than each VPN server: its text console through that server's gateway goes
 * over the management switch to its own node's serial bridge (the env file's LR_CONSOLE_HOST), never to the server's.
 */
export const consoleNodesCheck: Check = {
  id: "console-nodes",
  title: "text console across nodes: through each VPN server's gateway, a tenant on the other node logs in and gets its serial console from its own node's bridge",
  async run(lab) {
    const out: string[] = [];
    for (const inst of lab.plan.instances.filter((i) => i.proto === "udp")) {
      const server = lab.plan.servers.find((s) => s.name === inst.server)!;
      const t = lab.plan.tenants.find((x) => x.node !== server.node) ?? fail(`control: no tenant off ${server.name}'s node ${server.node}`);
      const on = () => pushedAddress(lab.clients.get(t.key)?.log ?? "");
      // Its client on this instance (a bundle of that instance alone), its whole bundle again after.
      const moved = on() !== t.tunnelIps[inst.id];
      if (moved) {
        await stopClient(lab, t);
        await startClient(lab, t, 20_000, [], inst);
      }
      const marks = new Map(lab.plan.nodes.map((n) => [n.name, readLog(lab.serialBridges.get(n.name)?.log ?? fail(`${n.name}: no serial bridge`)).length]));
      let detail: string;
      try {
        if (on() !== t.tunnelIps[inst.id]) fail(`control: ${t.key} is on ${on() || "(none)"}, not ${inst.id} ${t.tunnelIps[inst.id]}`);
        detail = await consoleOn(lab, t, inst);
      } finally {
        if (moved) {
          await stopClient(lab, t);
          await startClient(lab, t);
        }
      }
      const want = `vm=${t.vmid} from=${server.mgmtIp}`;
      const own = attachesOn(lab, t.node, marks.get(t.node)!);
      if (!own.includes(want)) fail(`${t.key} via ${inst.id}: ${t.node}'s serial bridge logged ${own.join(", ") || "no attach"}, not ${want}`);
      for (const n of lab.plan.nodes.filter((x) => x.name !== t.node)) {
        const stray = attachesOn(lab, n.name, marks.get(n.name)!);
        if (stray.length) fail(`${t.key} via ${inst.id}: ${n.name}'s serial bridge was asked too (${stray.join(", ")})`);
      }
      out.push(`${t.key} (${t.node}, console host ${nodeOf(lab.plan, t.node).mgmtIp}) via ${server.name} (${server.node}): ${detail}; attach on ${t.node} only`);
    }
    return out.join("; ");
  },
};

/** Only in the cluster lab (`--hosts 2`), after every check of ./checks.ts; node-failure last (it leaves its node dead). */
export const CLUSTER_CHECKS: readonly Check[] = [consoleNodesCheck, nodeFailureCheck];

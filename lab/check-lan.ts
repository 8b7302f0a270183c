/**
 * Lab checks of `fixed` mode (issue 10, the LibreRouter image as shipped): the tenant routers' public addresses by
 * DHCP from the services VM (dhcp-leases, dhcp-unknown-mac, dhcp-restart), and the same 10.0.0.1 behind every
 * tenant link reached only by its own tenant (lan-isolation). In distinct mode they do not apply (checks.ts).
 */
import { netmask } from "../lib/ipv4";
import type { InstancePlan, TenantPlan } from "../plan/types";
import { connectCount, pushedAddress, startClient, stopClient, waitForConnection } from "./clients";
import { must, run } from "./exec";
import type { Lab } from "./lab";
import { secs } from "./lab";
import { pings, tcpFetch } from "./probe";
import { killServer, startServer } from "./servers";
import { dhcpAsk, type Lease, leaseFile, startDhcp, stopDhcp } from "./services";
import { MARKER_PORT, ROUTER_WAN, UNKNOWN_MAC } from "./topology";
import { fail } from "./check-kit";

/** What the plan says tenant `t`'s router must get by DHCP. */
function planned(lab: Lab, t: TenantPlan): Lease {
  const svc = lab.plan.services.publicIp;
  return { ip: t.publicIp, mask: netmask(t.publicPrefix), router: t.publicGateway, dns: svc, lease: "", serverId: svc };
}

/** The lease's fields against the plan's (the lease time is the server's business). */
function leaseDiff(got: Lease, want: Lease): string {
  const keys = ["ip", "mask", "router", "dns", "serverId"] as const;
  return keys.filter((k) => got[k] !== want[k]).map((k) => `${k} ${got[k] || "(none)"}, plan says ${want[k]}`).join("; ");
}

/** The router's WAN as the kernel has it: MAC, IPv4 addresses, default routes. */
async function wanState(ns: string): Promise<{ mac: string; addrs: string[]; defaults: string[] }> {
  const [link, addr, route] = await Promise.all([
    must(["ip", "-o", "link", "show", "dev", ROUTER_WAN], { ns }),
    must(["ip", "-4", "-o", "addr", "show", "dev", ROUTER_WAN], { ns }),
    must(["ip", "-4", "route", "show", "default"], { ns }),
  ]);
  const mac = / link\/ether ([0-9a-f:]{17}) /.exec(link)?.[1] ?? "";
  const addrs = [...addr.matchAll(/ inet (\S+) /g)].map((m) => m[1]);
  return { mac, addrs, defaults: route.trim().split("\n").filter(Boolean).map((l) => l.trim()) };
}

/** Asserts `t`'s router has exactly its planned public address and gateway on its WAN NIC, with its MAC. */
async function routerWanIsPlanned(lab: Lab, t: TenantPlan): Promise<void> {
  const w = await wanState(lab.ns.lr[t.key]);
  if (w.mac !== t.publicMac) fail(`${t.key}'s router: ${ROUTER_WAN} has MAC ${w.mac}, plan says ${t.publicMac}`);
  const want = `${t.publicIp}/${t.publicPrefix}`;
  if (w.addrs.length !== 1 || w.addrs[0] !== want) fail(`${t.key}'s router: ${ROUTER_WAN} has ${JSON.stringify(w.addrs)}, expected exactly ${want}`);
  const route = `default via ${t.publicGateway} dev ${ROUTER_WAN}`;
  if (w.defaults.length !== 1 || !w.defaults[0].startsWith(route)) fail(`${t.key}'s router: default routes ${JSON.stringify(w.defaults)}, expected "${route}"`);
}

/** The lease file holds exactly one lease per tenant: its MAC, its planned address, its key as host name. */
function leaseFileIsPlanned(lab: Lab, when: string): string {
  const leases = leaseFile(lab);
  for (const t of lab.plan.tenants) {
    const l = leases.get(t.publicMac) ?? fail(`${when}: the lease file has no lease for ${t.key}'s MAC ${t.publicMac}:\n${[...leases.values()].map((x) => x.line).join("\n")}`);
    if (l.ip !== t.publicIp || l.host !== t.key) fail(`${when}: ${t.key}'s lease is "${l.line}", expected ${t.publicIp} for host ${t.key}`);
  }
  const extra = [...leases.keys()].filter((mac) => !lab.plan.tenants.some((t) => t.publicMac === mac));
  if (extra.length) fail(`${when}: the lease file holds leases for MACs no tenant has: ${extra.join(", ")}`);
  return [...leases.values()].map((l) => l.line).sort().join("\n");
}

/** `dhcp-leases`: at bring-up every router got exactly its planned address, gateway and resolver on its MAC. */
async function dhcpLeases(lab: Lab): Promise<string> {
  const out: string[] = [];
  for (const t of lab.plan.tenants) {
    const got = lab.leases.get(t.key) ?? fail(`${t.key}'s router has no DHCP lease from the bring-up`);
    const diff = leaseDiff(got, planned(lab, t));
    if (diff) fail(`${t.key}'s router (MAC ${t.publicMac}) got by DHCP: ${diff}`);
    await routerWanIsPlanned(lab, t);
    // The address is usable: the router reaches its gateway from it.
    if (!(await pings(lab.ns.lr[t.key], t.publicGateway))) fail(`${t.key}'s router cannot ping its gateway ${t.publicGateway} from ${t.publicIp}`);
    out.push(`${t.key} ${t.publicMac} → ${got.ip}/${t.publicPrefix}`);
  }
  leaseFileIsPlanned(lab, "after the bring-up");
  const gws = [...new Set(lab.plan.tenants.map((t) => t.publicGateway))].join(", ");
  return `${out.join(", ")}; gateway ${gws} (answers), resolver ${lab.plan.services.publicIp}, as planned; lease file: ${lab.plan.tenants.length} leases, one per tenant MAC`;
}

/** Packets matching `match` arriving in `ns` while `fn` runs (a raw-table counter, before any filter). */
async function arriving<T>(ns: string, match: readonly string[], fn: () => Promise<T>): Promise<{ value: T; n: number }> {
  const rule = [...match, "-m", "comment", "--comment", "lr-lab-dhcp", "-j", "ACCEPT"];
  await must(["iptables", "-t", "raw", "-I", "PREROUTING", "1", ...rule], { ns });
  try {
    const value = await fn();
    const listing = await must(["iptables", "-t", "raw", "-L", "PREROUTING", "1", "-v", "-x", "-n"], { ns });
    return { value, n: Number(/^\s*(\d+)/.exec(listing)?.[1] ?? fail(`no counter in ${ns}: ${listing}`)) };
  } finally {
    await must(["iptables", "-t", "raw", "-D", "PREROUTING", ...rule], { ns });
  }
}

/** `dhcp-unknown-mac`: a VM with a MAC no tenant has asks on the public bridge: its requests arrive, nothing answers. */
async function dhcpUnknownMac(lab: Lab): Promise<string> {
  if (lab.plan.tenants.some((t) => t.publicMac === UNKNOWN_MAC)) fail(`control: ${UNKNOWN_MAC} is a tenant's MAC`);
  const [t] = lab.plan.tenants;
  const asked = await arriving(lab.ns.svc, ["-i", "eth0", "-p", "udp", "--dport", "67", "-m", "mac", "--mac-source", UNKNOWN_MAC], () =>
    arriving(lab.ns.ux, ["-i", ROUTER_WAN, "-p", "udp", "--sport", "67"], () => dhcpAsk(lab, lab.ns.ux, "unknown", false)),
  );
  const { value: stranger, n: answers } = asked.value;
  if (stranger.ip) fail(`the VM with the unknown MAC ${UNKNOWN_MAC} got ${stranger.ip} (router ${stranger.router}) from ${stranger.serverId}`);
  if (answers) fail(`${answers} DHCP answer(s) reached the VM with the unknown MAC ${UNKNOWN_MAC}`);
  if (asked.n < 3) fail(`control: only ${asked.n} of its 3 discovers reached the services VM (the negative proves nothing)`);
  // Control: the server answers a known MAC meanwhile (it is up and serving the same bridge).
  const known = await dhcpAsk(lab, lab.ns.lr[t.key], `${t.key}-probe`, false);
  if (known.ip !== t.publicIp) fail(`control: ${t.key}'s router asking right after got ${known.ip || "nothing"}, plan says ${t.publicIp}`);
  return `${UNKNOWN_MAC}: ${asked.n} discovers reached the DHCP server, no answer, no address; control: ${t.key}'s MAC answered ${known.ip}`;
}

/** `dhcp-restart`: the server restarted keeps every lease in its file, and each router's renew gets the same address. */
async function dhcpRestart(lab: Lab): Promise<string> {
  const before = leaseFileIsPlanned(lab, "before the restart");
  const old = lab.dhcpServer ?? fail("the DHCP server is not running");
  await stopDhcp(lab);
  const stopped = leaseFileIsPlanned(lab, "with the server stopped");
  const fresh = await startDhcp(lab);
  if (fresh.pid === old.pid) fail(`control: the restarted dnsmasq has the old pid ${old.pid}`);
  const after = leaseFileIsPlanned(lab, "after the restart");
  if (stopped !== before || after !== before) fail(`the leases changed over the restart:\nbefore\n${before}\nafter\n${after}`);
  // The renew: each router's DHCP client again, with the same MAC, as after its lease ran out.
  const renewed = await Promise.all(lab.plan.tenants.map(async (t) => [t, await dhcpAsk(lab, lab.ns.lr[t.key], `${t.key}-renew`)] as const));
  for (const [t, l] of renewed) {
    const diff = leaseDiff(l, planned(lab, t));
    if (diff) fail(`${t.key}'s renew after the restart: ${diff}`);
    await routerWanIsPlanned(lab, t);
  }
  leaseFileIsPlanned(lab, "after the renews");
  return `dnsmasq ${old.pid} → ${fresh.pid}: ${lab.plan.tenants.length} leases in the file before, stopped and after; every renew got the same address (${renewed.map(([t, l]) => `${t.key}=${l.ip}`).join(" ")})`;
}

/** The UDP port each router's LAN responder answers on with its tenant key. */
const LAN_UDP_PORT = 7001;

/** A UDP responder (node, no package): every datagram to `port` is answered with the tenant key. */
const KEY_RESPONDER_JS = `
const s = require("dgram").createSocket("udp4");
const [addr, port, key] = process.argv.slice(1);
s.on("message", (_, r) => s.send(key + "\\n", r.port, r.address));
s.bind(Number(port), addr, () => console.log("listening"));
`;

/** One datagram from `ns` to host:port; the reply's text ("" when none within 2 s: `-t2`, socat's default waits 0.5 s after its input ends). */
async function udpAsk(ns: string, host: string, port: number): Promise<string> {
  const r = await run(["socat", "-t2", "-T2", "-", `UDP4:${host}:${port}`], { ns, input: "lan?\n", timeoutMs: 4000 });
  return r.stdout.trim();
}

/** The raw-table counters every router keeps for probes to its LAN address (UDP to the responder, TCP SYN to the marker). */
const COUNTERS = (lan: string) => [
  ["-i", "br0", "-d", `${lan}/32`, "-p", "udp", "--dport", String(LAN_UDP_PORT)],
  ["-i", "br0", "-d", `${lan}/32`, "-p", "tcp", "--dport", String(MARKER_PORT), "--syn"],
];

async function counts(ns: string): Promise<[number, number]> {
  const listing = await must(["iptables", "-t", "raw", "-L", "PREROUTING", "-v", "-x", "-n"], { ns });
  const rows = listing.split("\n").filter((l) => l.includes("lr-lab-lan"));
  if (rows.length !== 2) fail(`no LAN probe counters in ${ns}:\n${listing}`);
  const n = rows.map((l) => Number(/^\s*(\d+)/.exec(l)?.[1] ?? -1));
  return [n[0], n[1]];
}

/**
 * Every tenant in turn, from its client through the instance it is on: a UDP datagram and a TCP connection to
 * the LAN address (10.0.0.1): both answered with its own key, and counted at its router only, none at any other.
 */
async function probeAll(lab: Lab, phase: string): Promise<string> {
  const lan = lab.plan.tenants[0].routerIp;
  for (const t of lab.plan.tenants) {
    await Promise.all(lab.plan.tenants.map((o) => must(["iptables", "-t", "raw", "-Z", "PREROUTING"], { ns: lab.ns.lr[o.key] })));
    const c = lab.ns.c[t.key];
    const udp = await udpAsk(c, lan, LAN_UDP_PORT);
    if (udp !== t.key) fail(`${phase}: ${t.key}'s UDP datagram to ${lan}:${LAN_UDP_PORT} was answered ${JSON.stringify(udp)}, expected "${t.key}" (its own router)`);
    const tcp = await tcpFetch(c, lan, MARKER_PORT);
    if (tcp.text !== t.key) fail(`${phase}: ${t.key}'s TCP connection to ${lan}:${MARKER_PORT} ${tcp.detail}, expected "${t.key}" (its own router)`);
    for (const o of lab.plan.tenants) {
      const [u, s] = await counts(lab.ns.lr[o.key]);
      if (o === t && (u < 1 || s < 1)) fail(`control: ${t.key}'s own router counted ${u} datagram(s) and ${s} SYN(s) from its probes`);
      if (o !== t && (u || s)) fail(`${phase}: ${t.key}'s probes to ${lan} reached ${o.key}'s router (${u} datagram(s), ${s} SYN(s))`);
    }
  }
  return phase;
}

const onInstance = (lab: Lab, t: TenantPlan): InstancePlan | undefined => {
  const ip = pushedAddress(lab.clients.get(t.key)?.log ?? "");
  return lab.plan.instances.find((i) => t.tunnelIps[i.id] === ip);
};

/** Asserts every client's tunnel is on `id` (its planned address there). */
function allOn(lab: Lab, id: InstancePlan["id"]): void {
  for (const t of lab.plan.tenants) {
    const ip = pushedAddress(lab.clients.get(t.key)?.log ?? "");
    if (ip !== t.tunnelIps[id]) fail(`${t.key}'s client has ${ip || "no tunnel"}, plan says ${t.tunnelIps[id]} on ${id}`);
  }
}

/**
 * The failover as the `failover` check makes it (vpn1 SIGKILLed, the clients reconnect through vpn2), unless it
 * has just happened (that check runs right before this one): then the clients are on vpn2 already.
 */
async function onVpn2AfterFailover(lab: Lab): Promise<string> {
  if (lab.plan.tenants.every((t) => onInstance(lab, t)?.server === "vpn2")) return "after the failover check";
  const waits = lab.plan.tenants.map((t) => {
    const p = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
    return { p, n: connectCount(p.log) };
  });
  const t0 = Date.now();
  await killServer(lab, "vpn1");
  try {
    await Promise.all(waits.map(({ p, n }) => waitForConnection(p, n + 1, 40_000)));
  } finally {
    await startServer(lab, "vpn1");
  }
  return `vpn1 killed, every client back through vpn2 after ${secs(Date.now() - t0)}`;
}

/** Restarts every client, on `only` (one instance's bundle) or on its whole bundle. */
async function restartClients(lab: Lab, only?: InstancePlan): Promise<void> {
  await Promise.all(
    lab.plan.tenants.map(async (t) => {
      await stopClient(lab, t);
      await startClient(lab, t, 20_000, [], only);
    }),
  );
}

/**
 * `lan-isolation`: each tenant's traffic to the LAN address every router has reaches its own router only: through
 * vpn2 after a failover, vpn1 over TCP/443, vpn1 over UDP (the clients end there, on their whole bundle).
 */
async function lanIsolation(lab: Lab): Promise<string> {
  const lan = lab.plan.tenants[0].routerIp;
  if (lab.plan.tenants.some((t) => t.routerIp !== lan)) fail(`control: the routers do not share one LAN address: ${lab.plan.tenants.map((t) => `${t.key}=${t.routerIp}`).join(" ")}`);
  const responders = await Promise.all(
    lab.plan.tenants.map((t) => lab.procs.start(`lan-udp-${t.key}`, lab.ns.lr[t.key], [process.execPath, "-e", KEY_RESPONDER_JS, lan, String(LAN_UDP_PORT), t.key], lab.logFile(`lan-udp-${t.key}`), { ready: /listening/ })),
  );
  const rules = lab.plan.tenants.flatMap((t) => COUNTERS(lan).map((m) => ({ ns: lab.ns.lr[t.key], rule: [...m, "-m", "comment", "--comment", "lr-lab-lan", "-j", "ACCEPT"] })));
  for (const { ns, rule } of rules) await must(["iptables", "-t", "raw", "-A", "PREROUTING", ...rule], { ns });
  const phases: string[] = [];
  try {
    const how = await onVpn2AfterFailover(lab);
    for (const t of lab.plan.tenants) if (onInstance(lab, t)?.server !== "vpn2") fail(`${t.key}'s client is not on vpn2 after the failover (${pushedAddress(lab.clients.get(t.key)?.log ?? "") || "no tunnel"})`);
    phases.push(await probeAll(lab, `vpn2 (${how})`));
    const tcp = lab.plan.instances.find((i) => i.id === "vpn1-tcp")!;
    await restartClients(lab, tcp);
    allOn(lab, "vpn1-tcp");
    phases.push(await probeAll(lab, "vpn1-tcp"));
    await restartClients(lab);
    allOn(lab, "vpn1-udp");
    phases.push(await probeAll(lab, "vpn1-udp"));
  } finally {
    for (const { ns, rule } of rules) await run(["iptables", "-t", "raw", "-D", "PREROUTING", ...rule], { ns });
    await Promise.all(responders.map((p) => lab.procs.stop(p, 1000)));
    // Whatever failed, every client back on its whole bundle.
    for (const t of lab.plan.tenants) if (!lab.clients.has(t.key)) await startClient(lab, t).catch(() => undefined);
  }
  const n = lab.plan.tenants.length;
  return `${lan} behind all ${n} tenant links: each tenant's UDP datagram and TCP connection answered by its own router, counted there and at none of the other ${n - 1}: ${phases.join("; ")}`;
}

export const LAN_CHECKS = {
  dhcpLeases: { id: "dhcp-leases", title: "every tenant router got exactly its planned public IP, gateway and resolver by DHCP on its MAC", run: dhcpLeases },
  dhcpUnknownMac: { id: "dhcp-unknown-mac", title: "a VM with an unknown MAC on the public bridge gets no DHCP answer", run: dhcpUnknownMac },
  dhcpRestart: { id: "dhcp-restart", title: "DHCP server restarted: every lease still in its file; each router's renew gets the same address", run: dhcpRestart },
  lanIsolation: { id: "lan-isolation", title: "each tenant's traffic to the shared LAN address reaches its own router only: vpn2 after failover, vpn1 TCP/443, vpn1 UDP", run: lanIsolation },
} as const;

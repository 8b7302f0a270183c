/**
 * The end user's machine: nothing leaves it in clear while the tunnel reconnects (persist-tun and the launcher's
 * kill-switch), and its DNS goes through the tunnel to the tenant's LibreRouter and comes back byte for byte.
 * Packets are counted at the wan (the client's ISP side) in the raw table, before any filter.
 */
import { readFileSync } from "node:fs";
import type { TenantPlan } from "../plan/types";
import { clientResolvConf, labResolvConf, pushedAddress, startClient, stopClient as stopClientWithin, waitForConnection, connectCount } from "./clients";
import { must, run, sleep } from "./exec";
import type { Lab } from "./lab";
import { secs } from "./lab";
import { readLog, waitForLog, type Proc } from "./procs";
import { MARKER_IP, clientNet } from "./topology";
import { fail } from "./check-kit";


export interface ClearTraffic {
  /** IPv4 packets from the client to anything but the VPN servers' public addresses, seen at the wan. */
  readonly clear: number;
  /** Pings the generator sent to MARKER_IP meanwhile, and how many came back (through the tunnel). */
  readonly sent: number;
  readonly answered: number;
}

/**
 * Starts a ping stream (20/s) from tenant `t`'s client to MARKER_IP and a wan-side counter of its packets that go
 * anywhere but vpn1/vpn2; `stop()` ends both and reports.
 */
export async function watchClearTraffic(lab: Lab, t: TenantPlan): Promise<{ stop(): Promise<ClearTraffic> }> {
  const wan = lab.ns.wan;
  const chain = `lr-lab-clear-c${t.slot}`;
  const jump = ["-i", `c${t.slot}`, "-s", `${clientNet(t.slot).ip}/32`, "-j", chain];
  await must(["iptables", "-t", "raw", "-N", chain], { ns: wan });
  for (const s of lab.plan.servers) await must(["iptables", "-t", "raw", "-A", chain, "-d", `${s.publicIp}/32`, "-j", "RETURN"], { ns: wan });
  await must(["iptables", "-t", "raw", "-A", chain, "-j", "ACCEPT"], { ns: wan });
  await must(["iptables", "-t", "raw", "-I", "PREROUTING", "1", ...jump], { ns: wan });
  const log = lab.logFile(`ping-${t.key}`);
  const ping = await lab.procs.start(`ping-${t.key}`, lab.ns.c[t.key], ["ping", "-n", "-i", "0.05", "-W", "1", MARKER_IP], log);
  let done: Promise<ClearTraffic> | undefined;
  const finish = async (): Promise<ClearTraffic> => {
    await lab.procs.stop(ping, 3000, "SIGINT");
    const listing = await must(["iptables", "-t", "raw", "-L", chain, "-v", "-x", "-n"], { ns: wan });
    await must(["iptables", "-t", "raw", "-D", "PREROUTING", ...jump], { ns: wan });
    await must(["iptables", "-t", "raw", "-F", chain], { ns: wan });
    await must(["iptables", "-t", "raw", "-X", chain], { ns: wan });
    const last = listing.trimEnd().split("\n").pop() ?? "";
    const clear = /^\s*(\d+)\s+\d+\s+ACCEPT/.exec(last)?.[1] ?? fail(`no clear-traffic counter in ${wan}: ${listing}`);
    // The log is appended to by every run: the last summary is this one's.
    const stats = [...readLog(log).matchAll(/(\d+) packets transmitted, (\d+) received/g)].pop() ?? fail(`no ping summary in ${log}`);
    return { clear: Number(clear), sent: Number(stats[1]), answered: Number(stats[2]) };
  };
  // Idempotent: a check's `finally` may stop it again.
  return { stop: () => (done ??= finish()) };
}

/** The openvpn child of the client's launcher (its pid: the launcher runs it in the background). */
async function openvpnOf(client: Proc): Promise<number> {
  const r = await run(["pgrep", "-P", String(client.pid), "-x", "openvpn"]);
  const pid = Number(r.stdout.trim().split("\n")[0]);
  return pid > 0 ? pid : fail(`no openvpn child of the launcher (pid ${client.pid})`);
}

/** SIGUSR1 to the client's openvpn (a restart, as on ping-restart), measured while it reconnects. */
async function restartMeasured(lab: Lab, t: TenantPlan, client: Proc): Promise<ClearTraffic & { ms: number }> {
  const n = connectCount(client.log);
  const watch = await watchClearTraffic(lab, t);
  await sleep(300);
  const t0 = Date.now();
  process.kill(await openvpnOf(client), "SIGUSR1");
  try {
    await waitForConnection(client, n + 1, 20_000);
  } finally {
    await sleep(500);
  }
  const ms = Date.now() - t0;
  return { ...(await watch.stop()), ms };
}

const stopClient = (lab: Lab, t: TenantPlan) => stopClientWithin(lab, t, 5000);

/** `no-clear-traffic`: a restart of the real client leaks nothing; the control (no persist-tun, no kill-switch) does. */
export async function noClearTraffic(lab: Lab): Promise<string> {
  const t = lab.plan.tenants[0];
  const client = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
  const real = await restartMeasured(lab, t, client);
  if (real.clear) fail(`${real.clear} packet(s) left ${t.key}'s client in clear during a restart with persist-tun and the kill-switch`);
  // Control: the launcher without its kill-switch (no persist-tun, no server routes, no firewall): OpenVPN's own way.
  await stopClient(lab, t);
  const ctl = await startClient(lab, t, 20_000, ["--no-kill-switch"]);
  let control: ClearTraffic & { ms: number };
  try {
    control = await restartMeasured(lab, t, ctl);
  } finally {
    await stopClient(lab, t);
    await startClient(lab, t);
  }
  if (!control.clear) fail(`control: without persist-tun and the kill-switch a restart should leak, but 0 of ${control.sent} pings went out in clear`);
  return `restart with persist-tun + kill-switch: 0 packets in clear (${real.sent} pings in ${secs(real.ms)}); control without them: ${control.clear} packets in clear`;
}

/** The name the tenant's resolver answers and its address (RFC 2544 space, distinct from MARKER_IP). */
const dnsName = (t: TenantPlan) => `${t.key}.lr-lab.test`;
const DNS_ANSWER = "198.18.0.53";

/** A tiny UDP DNS responder (node, no package): A for `name`, NXDOMAIN otherwise; logs every query's source. */
const RESPONDER_JS = `
const dgram = require("dgram");
const [addr, name, answer] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
s.on("message", (q, r) => {
  if (q.length < 17) return;
  let i = 12; const labels = [];
  while (i < q.length && q[i] !== 0) { const n = q[i]; if (n > 63 || i + 1 + n >= q.length) return; labels.push(q.toString("latin1", i + 1, i + 1 + n)); i += n + 1; }
  if (i + 5 > q.length) return;
  const qname = labels.join(".").toLowerCase(), qtype = q.readUInt16BE(i + 1), hit = qname === name;
  const head = Buffer.from(q.subarray(0, i + 5));
  const a = hit && qtype === 1 ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...answer.split(".").map(Number)]) : Buffer.alloc(0);
  head.writeUInt16BE(hit ? 0x8180 : 0x8183, 2); head.writeUInt16BE(1, 4); head.writeUInt16BE(a.length ? 1 : 0, 6); head.writeUInt32BE(0, 8);
  console.log("query " + qname + " type " + qtype + " from " + r.address);
  s.send(Buffer.concat([head, a]), r.port, r.address);
});
s.bind(53, addr, () => console.log("listening on " + addr));
`;

/** `client-dns`: the tenant's name resolves through the tunnel at its router; resolv.conf comes back byte for byte. */
export async function clientDns(lab: Lab): Promise<string> {
  const t = lab.plan.tenants[0];
  const c = lab.ns.c[t.key];
  const log = lab.logFile(`dns-${t.key}`);
  const responder = await lab.procs.start(`dns-${t.key}`, lab.ns.lr[t.key], [process.execPath, "-e", RESPONDER_JS, t.routerIp, dnsName(t), DNS_ANSWER], log, { ready: /listening/ });
  try {
    const client = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
    const file = clientResolvConf(lab, t);
    const during = readFileSync(file, "utf8");
    if (!during.split("\n").includes(`nameserver ${t.routerIp}`)) fail(`while the tunnel is up ${file} has no "nameserver ${t.routerIp}":\n${during}`);
    const r = await run(["getent", "ahostsv4", dnsName(t)], { ns: c, timeoutMs: 5000 });
    const got = r.stdout.split("\n")[0]?.split(/\s+/)[0] ?? "";
    if (r.code !== 0 || got !== DNS_ANSWER) fail(`getent ahostsv4 ${dnsName(t)} in ${t.key}'s client: exit ${r.code}, "${got}", expected ${DNS_ANSWER}`);
    // The VPN server the client is on forwards the query from its own address on the tenant's LAN.
    const tunnelIp = pushedAddress(client.log);
    const inst = lab.plan.instances.find((i) => t.tunnelIps[i.id] === tunnelIp) ?? fail(`${t.key}: tunnel address ${tunnelIp} is no instance's`);
    const from = t.vpnLanIps[lab.plan.servers.findIndex((s) => s.name === inst.server)];
    const seen = `query ${dnsName(t)} type 1 from ${from}`;
    await waitForLog(log, new RegExp(seen.replace(/\./g, "\\.")), 2000).catch(() => fail(`the router's resolver did not log "${seen}" (the query did not come through the tunnel):\n${readLog(log)}`));
    // Exit (SIGTERM to the launcher, as a Ctrl-C or `systemctl stop` would): the file is the lab's original again.
    await stopClient(lab, t);
    const after = readFileSync(file, "utf8");
    if (after !== labResolvConf(t)) fail(`after the client exited ${file} is not the original:\n${JSON.stringify(after)}\nexpected\n${JSON.stringify(labResolvConf(t))}`);
    await startClient(lab, t);
    return `${dnsName(t)} → ${DNS_ANSWER} from ${t.routerIp}, query via ${inst.id} (from ${from}); resolv.conf restored byte for byte after exit`;
  } finally {
    await lab.procs.stop(responder, 1000);
  }
}

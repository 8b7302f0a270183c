/**
 * The ban grid's lab checks (issue 11), on the lab's real OpenVPN servers with the real engine (./bans.ts): an
 * attacker's bogus handshakes banned at vpn1, vpn2 and every node's public bridge (ban-detect); its port scan and its
 * UDP flood, seen only in the kernel's lines of LR-IN (ban-probe, ban-udp-flood); a tenant router's
 * reports (ban-report); the allowlisted outsider never banned (ban-allowlist); bans ending after banTime
 * (ban-expiry); the decision store killed and restarted (ban-lapi-restart). ban-load is ./check-ban-load.ts.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { REPORT_CLIENT, reporterConfig } from "../render/bans/tenant-report";
import { type BanMemberName, nodeMemberName } from "../plan/bans";
import type { TenantPlan } from "../plan/types";
import { HUB_ITEMS } from "../render/bans/crowdsec";
import { UDP_FLOOD_SCENARIO } from "../render/bans/items";
import { KERNEL_LOG_PREFIX, KERNEL_LOG_RATES } from "../render/bans/kernel-log";
import { addAddresses, bogusHandshakes, opensFrom, pingsFrom, synProbes, udpFlows } from "./attack";
import { kernelJournalFile } from "./bans";
import { type Enforcer, type GridRun, until } from "./ban-grid";
import { bannedEverywhere, bannedNowhere, gridOf, perPoint, watchTenants } from "./check-ban-kit";
import { fail } from "./check-kit";
import { run, sleep } from "./exec";
import type { Lab } from "./lab";
import { alive, readLog } from "./procs";
import { instanceLog } from "./servers";
import { ATTACKER, OUTSIDER } from "./topology";

/** Addresses of the attacker namespace each check uses (ban-load's come from the pool's start). */
export const ATTACK = { reported: "100.126.0.3", outage: ["100.126.0.10", "100.126.0.11", "100.126.0.12"], fresh: "100.126.0.20", probe: "100.126.0.30", flood: "100.126.0.31" } as const;

/** ban-detect's ban, watched from when it was in force everywhere until it ends everywhere (ban-expiry's figure). */
const detected = new WeakMap<Lab, { ip: string; ended: Promise<Record<Enforcer, number>> }>();

/** Seconds from now until each enforcement point no longer holds `ip` (polled in the background by the caller). */
function watchEnd(g: GridRun, ip: string, ms = 60_000): Promise<Record<Enforcer, number>> {
  const t0 = Date.now();
  const gone: Partial<Record<Enforcer, number>> = {};
  const p = until(`${ip}'s ban over everywhere`, async () => {
    for (const [m, s] of await g.sets()) if (!s.has(ip) && gone[m] === undefined) gone[m] = (Date.now() - t0) / 1000;
    return g.enforcers.every((m) => gone[m] !== undefined);
  }, ms, 200).then(() => gone as Record<Enforcer, number>);
  p.catch(() => undefined); // awaited by ban-expiry; a lab torn down before must not leave it unhandled
  return p;
}

const server = (lab: Lab, name: "vpn1" | "vpn2") => lab.plan.servers.find((s) => s.name === name)!;
const udpPort = (lab: Lab) => server(lab, "vpn1").ports.udp;
const tcpPort = (lab: Lab) => server(lab, "vpn1").ports.tcp;
/** A tenant whose public address the attacker tries, and the node member whose bridge table alone stands between them. */
interface Victim {
  readonly t: TenantPlan;
  readonly node: BanMemberName;
}

/**
 * The tenants the attacker tries: the last one on each node (the one-host lab: the last tenant), the API node's first.
 * A tenant is bridged on its own node's public bridge, so only that node's bouncer can drop the attacker in front of it.
 */
function victims(lab: Lab): Victim[] {
  const plan = lab.plan;
  return plan.nodes.flatMap((n) => {
    const t = plan.tenants.filter((x) => x.node === n.name).pop();
    return t ? [{ t, node: nodeMemberName(plan, n.name) }] : [];
  });
}

/** `alice's 203.0.113.10, carol's 203.0.113.12` */
const addresses = (vs: readonly Victim[]) => vs.map((v) => `${v.t.key}'s ${v.t.publicIp}`).join(", ");

/** What the grid's OpenVPN parser counts as a refusal (render/bans/items.ts). */
const REFUSAL = /TLS Error: |TLS Auth Error: |WARNING: Bad encapsulated packet length/;

/** Refusal lines openvpn logged for `ip` in an instance's log. */
export function refusals(lab: Lab, id: string, ip: string): number {
  return readLog(instanceLog(lab, id))
    .split("\n")
    .filter((l) => REFUSAL.test(l) && (l.includes(` ${ip}:`) || l.includes(`]${ip}:`))).length;
}

/** Node member `m`'s bridge table's drop counter (packets): what it filtered in front of the VMs on that node. */
async function bridgeDrops(g: GridRun, m: BanMemberName): Promise<number> {
  const out = (await run(["nft", "list", "chain", "bridge", "lrban", "forward"], { ns: g.ns(m) })).stdout;
  return Number(/@ban4 counter packets (\d+)/.exec(out)?.[1] ?? fail(`no drop counter in ${m}'s bridge table:\n${out}`));
}

async function banDetect(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const vs = victims(lab);
  const vpn1 = server(lab, "vpn1");
  const atk = lab.ns.atk;
  const ip = ATTACKER.ip;
  for (const { t } of vs) if (!(await pingsFrom(atk, ip, t.publicIp))) fail(`control: the attacker ${ip} cannot reach ${t.key}'s public address ${t.publicIp}`);
  if (!(await opensFrom(atk, ip, vpn1.publicIp, tcpPort(lab)))) fail(`control: the attacker cannot open vpn1's ${vpn1.publicIp}:${tcpPort(lab)}`);
  await bannedNowhere(g, [ip], "control: the attacker before its attack");
  const watch = await watchTenants(lab, "ban-detect");
  try {
    const n = lab.plan.bans.scenario.retries;
    const sent = await bogusHandshakes(atk, [ip], vpn1.publicIp, udpPort(lab), "udp", n);
    const at = await bannedEverywhere(g, ip, sent);
    detected.set(lab, { ip, ended: watchEnd(g, ip) });
    const logged = refusals(lab, "vpn1-udp", ip);
    if (logged < n) fail(`vpn1-udp logged ${logged} of the ${n} refusals`);
    // The pings alone between the counter reads: each victim's node's count is then the ping dropped in front of it.
    const drops0 = await Promise.all(vs.map((v) => bridgeDrops(g, v.node)));
    const pinged = await Promise.all(vs.map((v) => pingsFrom(atk, ip, v.t.publicIp)));
    const drops = await Promise.all(vs.map(async (v, i) => (await bridgeDrops(g, v.node)) - drops0[i]));
    vs.forEach((v, i) => pinged[i] && fail(`banned, the attacker still reaches ${v.t.key}'s public address ${v.t.publicIp} (on ${v.node})`));
    vs.forEach((v, i) => drops[i] < 1 && fail(`${v.node}'s bridge table dropped nothing of the attacker's ping to ${v.t.key}'s ${v.t.publicIp}`));
    const opened = await Promise.all(lab.plan.servers.map((s) => opensFrom(atk, ip, s.publicIp, tcpPort(lab))));
    lab.plan.servers.forEach((s, i) => opened[i] && fail(`banned, the attacker still opens ${s.name}'s :${tcpPort(lab)}`));
    const pings = vs.map((v, i) => `${v.t.key}'s ${v.t.publicIp} (${drops[i]} dropped by ${v.node}'s bridge table)`).join(", ");
    return `${n} bogus UDP handshakes (${logged} refusals logged by vpn1-udp) → banned ${perPoint(g, at)} after the last one (goal ≤ 10 s); then no ping to ${pings}, no TCP to vpn1 or vpn2; ${await watch.stop()}`;
  } finally {
    await watch.stop().catch(() => undefined);
  }
}

/** Closed ports a scanner tries first (the lab's OpenVPN ports are left out where they are in it). */
const SCAN_PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 445, 993, 995, 1723, 3306, 3389, 5900, 8080, 8443];

/** The vendored scan scenario's name (its hub path without `scenarios/` and `.yaml`). */
const SCAN_SCENARIO = (HUB_ITEMS.kernel.find((i) => i.startsWith("scenarios/")) ?? fail("HUB_ITEMS.kernel has no scenario")).replace(/^scenarios\/|\.yaml$/g, "");

/** The scenarios of the LAPI's alerts on `ip`. */
async function alertScenarios(g: GridRun, ip: string): Promise<string[]> {
  const out = (await g.cscli("alerts", "list", "-i", ip, "-o", "json")).trim();
  return out === "null" ? [] : (JSON.parse(out) as { scenario: string }[]).map((a) => a.scenario);
}

/** The kernel lines with `prefix` from `ip` that server `name`'s agent got (./kmsg.ts). */
function kernelLines(lab: Lab, name: "vpn1" | "vpn2", prefix: string, ip: string): string[] {
  return readLog(kernelJournalFile(lab, name))
    .split("\n")
    .filter((l) => l.includes(` kernel: ${prefix}`) && l.includes(` SRC=${ip} `));
}

/** A port scan of vpn1's public address: LR-IN logs each closed port, the vendored scan scenario bans. */
async function banProbe(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const vpn1 = server(lab, "vpn1");
  const atk = lab.ns.atk;
  const ip = ATTACK.probe;
  const ports = SCAN_PORTS.filter((p) => !vpn1.instances.some((i) => i.proto === "tcp" && i.port === p));
  await addAddresses(atk, "eth0", [ip]);
  if (!(await opensFrom(atk, ip, vpn1.publicIp, tcpPort(lab)))) fail(`control: ${ip} cannot open vpn1's ${vpn1.publicIp}:${tcpPort(lab)}`);
  await bannedNowhere(g, [ip], `control: ${ip} before its scan`);
  const watch = await watchTenants(lab, "ban-probe");
  try {
    const sent = await synProbes(atk, ip, vpn1.publicIp, ports);
    const at = await bannedEverywhere(g, ip, sent, 10_000);
    const scenarios = await alertScenarios(g, ip);
    if (!scenarios.includes(SCAN_SCENARIO)) fail(`${ip}'s alerts are ${JSON.stringify(scenarios)}, not ${SCAN_SCENARIO}`);
    const lines = kernelLines(lab, "vpn1", KERNEL_LOG_PREFIX.probe, ip);
    const probed = new Set(lines.map((l) => / DPT=(\d+) /.exec(l)?.[1]));
    if (probed.size !== ports.length) fail(`vpn1's kernel lines name ${probed.size} of the ${ports.length} probed ports`);
    if (await opensFrom(atk, ip, vpn1.publicIp, tcpPort(lab))) fail(`banned, ${ip} still opens vpn1's :${tcpPort(lab)}`);
    return `${ports.length} SYNs to closed ports of vpn1's ${vpn1.publicIp} (${lines.length} ${KERNEL_LOG_PREFIX.probe.trim()} kernel lines) → alert ${scenarios.join(", ")}, banned ${perPoint(g, at)} after the last one (goal ≤ 10 s); then no TCP to :${tcpPort(lab)}; ${await watch.stop()}`;
  } finally {
    await watch.stop().catch(() => undefined);
  }
}

/** A flood of new UDP flows OpenVPN does not log: LR-IN logs what exceeds the per-source rate, lr/udp-flood bans. */
async function banUdpFlood(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const vpn1 = server(lab, "vpn1");
  const atk = lab.ns.atk;
  const ip = ATTACK.flood;
  const { above, burst } = KERNEL_LOG_RATES.flood;
  // Five times the rule's rate, for a second and a bit: well past its burst.
  const [n, rate] = [3 * burst, 5 * above];
  await addAddresses(atk, "eth0", [ip]);
  if (!(await opensFrom(atk, ip, vpn1.publicIp, tcpPort(lab)))) fail(`control: ${ip} cannot open vpn1's ${vpn1.publicIp}:${tcpPort(lab)}`);
  await bannedNowhere(g, [ip], `control: ${ip} before its flood`);
  const watch = await watchTenants(lab, "ban-udp-flood");
  try {
    const t0 = Date.now();
    const banned = bannedEverywhere(g, ip, t0, 15_000);
    banned.catch(() => undefined); // awaited below, after the flood
    await udpFlows(atk, ip, vpn1.publicIp, udpPort(lab), n, rate);
    const took = (Date.now() - t0) / 1000;
    const at = await banned;
    const scenarios = await alertScenarios(g, ip);
    if (!scenarios.includes(UDP_FLOOD_SCENARIO)) fail(`${ip}'s alerts are ${JSON.stringify(scenarios)}, not ${UDP_FLOOD_SCENARIO}`);
    const lines = kernelLines(lab, "vpn1", KERNEL_LOG_PREFIX.flood, ip).length;
    const logged = refusals(lab, "vpn1-udp", ip);
    if (logged) fail(`vpn1-udp logged ${logged} refusals from ${ip}: the flood is meant to be one OpenVPN does not log`);
    if (await opensFrom(atk, ip, vpn1.publicIp, tcpPort(lab))) fail(`banned, ${ip} still opens vpn1's :${tcpPort(lab)}`);
    return `${n} new UDP flows to vpn1's :${udpPort(lab)} at ${rate}/s for ${took.toFixed(1)}s (no OpenVPN refusal logged; ${lines} ${KERNEL_LOG_PREFIX.flood.trim()} kernel lines, above ${above}/s after a burst of ${burst}) → alert ${scenarios.join(", ")}, banned ${perPoint(g, at)} after the first (goal ≤ 10 s); ${await watch.stop()}`;
  } finally {
    await watch.stop().catch(() => undefined);
  }
}

/** The rendered reporter on tenant `t`'s router, with its token (reporterConfig), reporting `ip`: exit code and output. */
async function report(lab: Lab, t: TenantPlan, token: string, ip: string): Promise<{ code: number; out: string }> {
  const script = lab.path("bans", "reporter", "lr-ban-report");
  writeFileSync(script, REPORT_CLIENT, { mode: 0o755 });
  const conf = lab.path("bans", "reporter", `${t.key}.conf`);
  writeFileSync(conf, reporterConfig(lab.plan.bans, token), { mode: 0o600 });
  chmodSync(conf, 0o600);
  const r = await run(["env", `LR_BAN_CONF=${conf}`, "sh", script, ip, "lab"], { ns: lab.ns.lr[t.key], timeoutMs: 20_000 });
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

async function banReport(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const [t, other] = lab.plan.tenants;
  const token = g.secrets.tokens[t.key];
  const vpn1 = server(lab, "vpn1");
  const ip = ATTACK.reported;
  await addAddresses(lab.ns.atk, "eth0", [ip]);
  if (!(await pingsFrom(lab.ns.atk, ip, other.publicIp))) fail(`control: ${ip} cannot reach ${other.key}'s public address`);
  const t0 = Date.now();
  const ok = await report(lab, t, token, ip);
  if (ok.code !== 0 || ok.out !== `lr-ban-report: ${ip} banned`) fail(`${t.key}'s report of ${ip}: exit ${ok.code}, ${JSON.stringify(ok.out)}`);
  const at = await bannedEverywhere(g, ip, t0);
  if (await pingsFrom(lab.ns.atk, ip, other.publicIp)) fail(`reported and banned, ${ip} still reaches ${other.key}'s public address`);
  const refused = {
    [`${other.key}'s public address`]: await report(lab, t, token, other.publicIp),
    [`vpn1's public address`]: await report(lab, t, token, vpn1.publicIp),
    [`${ip} with ${t.key}'s token from ${other.key}'s router`]: await report(lab, other, token, ATTACK.fresh),
  };
  const want = ["refused (HTTP 403)", "refused (HTTP 403)", "refused (HTTP 401)"];
  Object.entries(refused).forEach(([what, r], i) => {
    if (r.code !== 2 || !r.out.endsWith(want[i])) fail(`${t.key} reporting ${what}: exit ${r.code}, ${JSON.stringify(r.out)}, expected exit 2 and "${want[i]}"`);
  });
  await sleep((lab.plan.bans.pollSeconds + 1) * 1000);
  const never = [other.publicIp, vpn1.publicIp, ATTACK.fresh];
  await bannedNowhere(g, never, "refused reports");
  for (const x of never) if ((await g.cscli("decisions", "list", "-i", x, "-o", "json")).trim() !== "null") fail(`the LAPI holds a decision on ${x} after a refused report`);
  return `${t.key}'s router (from ${t.publicIp}, rendered lr-ban-report) reports ${ip}: banned ${perPoint(g, at)} after the request, then cut off from ${other.key}'s public address; reporting ${other.key}'s ${other.publicIp} or vpn1's ${vpn1.publicIp}: HTTP 403; its token from ${other.key}'s router: HTTP 401; none of them banned anywhere, no decision`;
}

async function banAllowlist(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const x = OUTSIDER.ip;
  const vs = victims(lab);
  // What the refusal checks made the outsider do so far (unknown certificate, wrong hardware ID, foreign keys, the storm).
  const earlier = lab.plan.instances.reduce((n, i) => n + refusals(lab, i.id, x), 0);
  const n = 3 * lab.plan.bans.scenario.retries;
  const before = readLog(instanceLog(lab, "vpn1-udp")).length;
  for (const s of lab.plan.servers) await bogusHandshakes(lab.ns.x, [x], s.publicIp, udpPort(lab), "udp", n);
  await until("the outsider's refusals logged", () => readLog(instanceLog(lab, "vpn1-udp")).slice(before).split(`from [AF_INET]${x}:`).length > n);
  await sleep((lab.plan.bans.pollSeconds + 2) * 1000);
  await bannedNowhere(g, [x], `the allowlisted ${x} after ${n} bogus handshakes on each server`);
  const alerts = (await g.cscli("alerts", "list", "-i", x, "-o", "json")).trim();
  if (alerts !== "null") fail(`the LAPI holds alerts for the allowlisted ${x}: ${alerts.slice(0, 300)}`);
  if (!(await opensFrom(lab.ns.x, x, server(lab, "vpn1").publicIp, tcpPort(lab)))) fail(`the allowlisted ${x} cannot open vpn1's :${tcpPort(lab)}`);
  // Even a ban made by hand does not cut it off: every enforcement point accepts allow4 before ban4.
  await g.cscli("decisions", "add", "-i", x, "-d", "1m");
  try {
    await bannedEverywhere(g, x, Date.now());
    const reach = await Promise.all([opensFrom(lab.ns.x, x, server(lab, "vpn1").publicIp, tcpPort(lab)), opensFrom(lab.ns.x, x, server(lab, "vpn2").publicIp, tcpPort(lab)), ...vs.map((v) => pingsFrom(lab.ns.x, x, v.t.publicIp))]);
    if (!reach.every(Boolean)) fail(`with a manual ban the allowlisted ${x} is cut off (vpn1, vpn2, ${addresses(vs)}: ${JSON.stringify(reach)})`);
  } finally {
    await g.cscli("decisions", "delete", "-i", x);
  }
  return `${x} (bans.allowlist): ${earlier} refusals from the earlier checks and ${n} bogus handshakes on each server now: no alert, no ban; a manual ban reaches all ${g.enforcers.length} sets, yet it still reaches vpn1, vpn2 and ${addresses(vs)} (allow4 first)`;
}

async function banExpiry(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const vs = victims(lab);
  const banTime = lab.plan.bans.profile.durations[0];
  let d = detected.get(lab);
  if (!d) {
    // ban-detect did not run (--only): a ban of our own, from an address never banned.
    await addAddresses(lab.ns.atk, "eth0", [ATTACK.fresh]);
    const sent = await bogusHandshakes(lab.ns.atk, [ATTACK.fresh], server(lab, "vpn1").publicIp, udpPort(lab), "udp", lab.plan.bans.scenario.retries);
    await bannedEverywhere(g, ATTACK.fresh, sent);
    d = { ip: ATTACK.fresh, ended: watchEnd(g, ATTACK.fresh) };
  }
  const gone = await d.ended;
  if ((await g.cscli("decisions", "list", "-i", d.ip, "-o", "json")).trim() !== "null") fail(`the LAPI still holds a decision on ${d.ip}`);
  for (const { t } of vs) if (!(await pingsFrom(lab.ns.atk, d.ip, t.publicIp))) fail(`after its ban ${d.ip} still cannot reach ${t.key}'s public address ${t.publicIp}`);
  if (!(await opensFrom(lab.ns.atk, d.ip, server(lab, "vpn1").publicIp, tcpPort(lab)))) fail(`after its ban ${d.ip} still cannot open vpn1`);
  return `${d.ip}'s ban (banTime ${banTime}) ended on ${perPoint(g, gone)} after it was in force everywhere; no decision left; it reaches vpn1 and ${addresses(vs)} again`;
}

async function banLapiRestart(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const vpn1 = server(lab, "vpn1");
  const [held, during, after] = ATTACK.outage;
  const n = lab.plan.bans.scenario.retries;
  await addAddresses(lab.ns.atk, "eth0", ATTACK.outage);
  await bannedEverywhere(g, held, await bogusHandshakes(lab.ns.atk, [held], vpn1.publicIp, udpPort(lab), "udp", n));
  const points = g.enforcers;
  const bouncers = points.map((m) => g.daemons.get(`bouncer-${m}`)?.pid);
  await g.killLapi();
  if (await g.lapiUp()) fail("control: the LAPI still answers after SIGKILL");
  const t0 = Date.now();
  await sleep((lab.plan.bans.pollSeconds + 1) * 1000);
  if ((await g.bannedAt(held)).length !== points.length) fail(`with the LAPI down ${held}'s ban is not in force everywhere: ${(await g.bannedAt(held)).join(", ")}`);
  // The outage's attack over TCP: connections whose first length is impossible.
  await bogusHandshakes(lab.ns.atk, [during], vpn1.publicIp, tcpPort(lab), "tcp", n);
  await sleep((lab.plan.bans.pollSeconds + 1) * 1000);
  await bannedNowhere(g, [during], "control: an attack during the outage");
  const down = (Date.now() - t0) / 1000;
  const gone = points.filter((m, i) => !bouncers[i] || !alive(bouncers[i]!) || g.daemons.get(`bouncer-${m}`)?.pid !== bouncers[i]);
  if (gone.length) fail(`bouncers gone during the outage: ${gone.join(", ")}`);
  const r0 = Date.now();
  await g.startLapi();
  const up = (Date.now() - r0) / 1000;
  const back = await bannedEverywhere(g, during, r0, 60_000);
  const fresh = await bannedEverywhere(g, after, await bogusHandshakes(lab.ns.atk, [after], vpn1.publicIp, udpPort(lab), "udp", n));
  const logged = refusals(lab, "vpn1-tcp", during);
  return `LAPI SIGKILLed for ${down.toFixed(1)}s: ${held}'s ban held on all ${points.length}, the same bouncers kept running; ${n} bogus TCP streams (${logged} refusals logged by vpn1-tcp) during it: banned nowhere until the LAPI was back (its unit's config test and start: /health after ${up.toFixed(1)}s), then ${perPoint(g, back)} after its restart; a new attack after: ${perPoint(g, fresh)}`;
}

const BANS = "the ban grid: attackers, reports and bans on the public side, no tenant network in it";

export const BAN_CHECKS = {
  detect: { id: "ban-detect", modeIndependent: BANS, title: "an attacker's bogus OpenVPN handshakes: banned on vpn1, vpn2 and every node's public bridge within seconds, cut off from a tenant on each node; tenants' sessions untouched", run: banDetect },
  probe: { id: "ban-probe", modeIndependent: BANS, title: "an attacker's SYNs to 20 closed ports of vpn1's public address (the kernel's LR-IN lines): banned on every enforcement point within seconds; tenants' sessions untouched", run: banProbe },
  udpFlood: { id: "ban-udp-flood", modeIndependent: BANS, title: "an attacker's flood of new UDP flows to vpn1's OpenVPN port, which OpenVPN does not log (the kernel's LR-IN lines): banned everywhere by lr/udp-flood; tenants' sessions untouched", run: banUdpFlood },
  report: { id: "ban-report", modeIndependent: BANS, title: "a tenant's router reports an attacker: banned grid-wide; another tenant's or a VPN server's address: refused, nothing banned", run: banReport },
  allowlist: { id: "ban-allowlist", modeIndependent: BANS, title: "the allowlisted address is never banned, whatever it sends", run: banAllowlist },
  expiry: { id: "ban-expiry", modeIndependent: BANS, title: "a ban ends after banTime on every enforcement point", run: banExpiry },
  lapiRestart: { id: "ban-lapi-restart", modeIndependent: BANS, title: "the LAPI killed: bans stay enforced; an attack during the outage is banned once it is back; new bans propagate", run: banLapiRestart },
} as const;

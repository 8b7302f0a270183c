/**
 * ban-load: 1,000 distinct attackers within a minute, with REAL packets: each sends `retries` bogus UDP handshakes to
 * vpn1 from its own address in the attacker namespace (paced under openvpn's receive buffer, so every one is logged:
 * OpenVPN 2.6 logs them far faster than needed). Every address must reach every enforcement point's ban set; the
 * tenants' tunnels keep forwarding meanwhile. Prints bans/s, time to enforce and the daemons' memory.
 */
import { addAddresses, bogusHandshakes } from "./attack";
import { type Enforcer, until } from "./ban-grid";
import { gridOf, watchTenants } from "./check-ban-kit";
import { fail } from "./check-kit";
import { sleep } from "./exec";
import type { Lab } from "./lab";
import { readLog } from "./procs";
import { instanceLog } from "./servers";

export const LOAD_ATTACKERS = 1000;

/** The i-th load attacker: 100.96.0.1 … 100.96.3.250 (ATTACKER.pool, routed to the attacker by the wan). */
export const loadAddress = (i: number) => `100.96.${Math.floor(i / 250)}.${1 + (i % 250)}`;

async function banLoad(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const points = g.enforcers;
  const vpn1 = lab.plan.servers.find((s) => s.name === "vpn1")!;
  const n = lab.plan.bans.scenario.retries;
  const ips = Array.from({ length: LOAD_ATTACKERS }, (_, i) => loadAddress(i));
  await addAddresses(lab.ns.atk, "eth0", ips);
  const logFrom = readLog(instanceLog(lab, "vpn1-udp")).length;
  const watch = await watchTenants(lab, "ban-load");
  try {
    const t0 = Date.now();
    const sentAt = await bogusHandshakes(lab.ns.atk, ips, vpn1.publicIp, vpn1.ports.udp, "udp", n);
    const sendS = (sentAt - t0) / 1000;
    // Each point's set is read every 250 ms; an address counts once it was seen there (the first bans may end
    // before the last begin). Waits until every point saw all, or none grew for 5 s (a decision the LAPI's stream
    // skipped never comes by itself), at most 60 s.
    const seen = new Map<Enforcer, Set<string>>(points.map((m) => [m, new Set()]));
    const last = new Map<Enforcer, number>();
    const first = new Map<Enforcer, number>();
    const want = new Set(ips);
    const complete = () => points.every((m) => seen.get(m)!.size === ips.length);
    for (let now = Date.now(); now < t0 + 60_000 && !complete(); now = Date.now()) {
      for (const [m, set] of await g.sets()) {
        const s = seen.get(m)!;
        const before = s.size;
        for (const ip of set) if (want.has(ip)) s.add(ip);
        if (s.size > before) last.set(m, (now - t0) / 1000);
        if (s.size && !first.has(m)) first.set(m, (now - t0) / 1000);
      }
      if (last.size === points.length && now - t0 - 1000 * Math.max(...last.values()) > 5000) break;
      await sleep(250);
    }
    const logged = readLog(instanceLog(lab, "vpn1-udp")).slice(logFrom).split("\n").filter((l) => /TLS Error: can not extract tls-crypt-v2 client key from \[AF_INET\]100\.96\./.test(l)).length;
    // What production's lr-ban-resync does for a set the stream left short: the bouncer restarted while the LAPI is up.
    const short = points.filter((m) => seen.get(m)!.size < ips.length);
    const missing = short.map((m) => `${m} ${ips.length - seen.get(m)!.size}`);
    let resync = "";
    if (short.length) {
      const r0 = Date.now();
      for (const m of short) await g.restartBouncer(m);
      await until("every set complete after the resync", async () => {
        for (const [m, set] of await g.sets()) for (const ip of set) if (want.has(ip)) seen.get(m)!.add(ip);
        return complete();
      }, 30_000, 250).catch(() => fail(`after ${logged}/${ips.length * n} refusals logged and a resync, sets still short: ${points.map((m) => `${m} ${seen.get(m)!.size}/${ips.length}`).join(", ")}`));
      resync = `; the stream skipped ${missing.join(", ")}: complete ${((Date.now() - r0) / 1000).toFixed(1)}s after a bouncer restart (lr-ban-resync)`;
    }
    const enforced = Math.max(...last.values());
    const rss = ["lapi", "agent-vpn1", "bouncer-vpn1", "bouncer-host"].map((d) => `${d} ${g.rssMb(d)} MiB`).join(", ");
    const tenants = await watch.stop();
    return `${ips.length} addresses × ${n} real bogus UDP handshakes sent in ${sendS.toFixed(1)}s (${logged} of ${ips.length * n} refusals logged by vpn1-udp): all in every set, first after ${points.map((m) => `${m} ${first.get(m)?.toFixed(1)}s`).join(" ")}, last after ${enforced.toFixed(1)}s = ${(ips.length / enforced).toFixed(0)} bans/s${resync}; RSS ${rss}; ${tenants}`;
  } finally {
    await watch.stop().catch(() => undefined);
  }
}

export const banLoadCheck = {
  id: "ban-load",
  modeIndependent: "the ban grid: attackers and bans on the public side, no tenant network in it",
  title: `${LOAD_ATTACKERS} distinct attackers within a minute (real packets): all banned on every enforcement point; tenants keep forwarding`,
  run: banLoad,
} as const;

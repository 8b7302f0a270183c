/** What the ban grid's lab checks share: the running grid, ban times per enforcement point, the tenants' sessions watched. */
import type { TenantPlan } from "../plan/types";
import { connectCount, waitForConnection } from "./clients";
import { type Enforcer, type GridRun, until } from "./ban-grid";
import { fail, reachesOwnMarker } from "./check-kit";
import type { Lab } from "./lab";
import { readLog } from "./procs";
import { tcpFetch } from "./probe";
import { MARKER_IP, MARKER_PORT } from "./topology";

export function gridOf(lab: Lab): GridRun {
  return lab.grid ?? fail("the ban grid is not running");
}

/** Seconds after `sinceMs` at which each enforcement point first held `ip` in its ban set (throws after `ms`). */
export async function bannedEverywhere(g: GridRun, ip: string, sinceMs: number, ms = 30_000): Promise<Record<Enforcer, number>> {
  const at: Partial<Record<Enforcer, number>> = {};
  const all = g.enforcers;
  await until(`${ip} in the ban sets of ${all.join(", ")}`, async () => {
    for (const [m, s] of await g.sets()) if (s.has(ip) && at[m] === undefined) at[m] = (Date.now() - sinceMs) / 1000;
    return all.every((m) => at[m] !== undefined);
  }, ms, 100).catch((e: Error) => fail(`${e.message} (held by: ${Object.keys(at).join(", ") || "none"})`));
  return at as Record<Enforcer, number>;
}

/** `vpn1 1.2s, vpn2 1.4s, host 1.9s`: seconds per enforcement point of `g`, in the plan's order. */
export function perPoint(g: GridRun, at: Record<Enforcer, number>): string {
  return g.enforcers.map((m) => `${m} ${at[m] === undefined ? "never" : `${at[m].toFixed(1)}s`}`).join(", ");
}

/** Asserts no enforcement point holds any of `ips`. */
export async function bannedNowhere(g: GridRun, ips: readonly string[], what: string): Promise<void> {
  const sets = await g.sets();
  const held = ips.flatMap((ip) => [...sets].filter(([, s]) => s.has(ip)).map(([m]) => `${ip} on ${m}`));
  if (held.length) fail(`${what}: banned (${held.join(", ")})`);
}

/**
 * Waits until tenant `t`'s session carries traffic: a check before it (delete-clean) may have ended it, and its client
 * reconnects at its ping-restart. Seconds waited.
 */
async function sessionUp(lab: Lab, t: TenantPlan): Promise<number> {
  const client = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
  const t0 = Date.now();
  const n = connectCount(client.log);
  if ((await tcpFetch(lab.ns.c[t.key], MARKER_IP, MARKER_PORT)).text === t.key) return 0;
  await waitForConnection(client, n + 1, 40_000).catch(() => fail(`control: ${t.key}'s session does not carry traffic and its client did not reconnect within 40 s`));
  await until(`${t.key}'s marker through the new session`, async () => (await tcpFetch(lab.ns.c[t.key], MARKER_IP, MARKER_PORT)).text === t.key, 10_000, 200);
  return (Date.now() - t0) / 1000;
}

/**
 * Every tenant's session watched while a check runs: a 10/s ping stream from its client to MARKER_IP (its own router,
 * through its tunnel) and its connect count, from when the session carries traffic. `stop()` fails if a tunnel
 * dropped a ping (the one in flight at the end aside) or reconnected, checks each marker once more, and says how
 * many answered.
 */
export async function watchTenants(lab: Lab, tag: string): Promise<{ stop(): Promise<string> }> {
  const waited = await Promise.all(lab.plan.tenants.map((t) => sessionUp(lab, t)));
  const late = lab.plan.tenants.flatMap((t, i) => (waited[i] > 0 ? [`${t.key}'s session back after ${waited[i].toFixed(1)}s`] : []));
  const watched = await Promise.all(
    lab.plan.tenants.map(async (t) => {
      const client = lab.clients.get(t.key) ?? fail(`${t.key}: client not running`);
      const log = lab.logFile(`ping-${tag}-${t.key}`);
      const ping = await lab.procs.start(`ping-${tag}-${t.key}`, lab.ns.c[t.key], ["ping", "-n", "-i", "0.1", "-W", "1", MARKER_IP], log);
      return { t, client, connects: connectCount(client.log), ping, log };
    }),
  );
  let done: Promise<string> | undefined;
  const finish = async (): Promise<string> => {
    const out: string[] = [];
    for (const w of watched) {
      await lab.procs.stop(w.ping, 3000, "SIGINT");
      const s = [...readLog(w.log).matchAll(/(\d+) packets transmitted, (\d+) received/g)].pop() ?? fail(`no ping summary in ${w.log}`);
      const [sent, got] = [Number(s[1]), Number(s[2])];
      if (got < sent - 1) fail(`${w.t.key}'s tunnel answered ${got} of ${sent} pings during ${tag}`);
      if (connectCount(w.client.log) !== w.connects) fail(`${w.t.key}'s session reconnected during ${tag}`);
      await reachesOwnMarker(lab, w.t);
      out.push(`${w.t.key} ${got}/${sent}`);
    }
    return `tenants' pings through their tunnels answered ${out.join(", ")}, no reconnect${late.length ? ` (before: ${late.join(", ")})` : ""}`;
  };
  return { stop: () => (done ??= finish()) };
}

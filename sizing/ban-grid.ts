/**
 * What the ban grid (issue 11) costs where it runs: RAM on the services VM (the decision store, its agent and the
 * tenants' report gateway, beside BIND and dnsmasq), on each VPN server and on the host (an agent, a bouncer and
 * the whole ban set), and the decision store's database on the services VM's disk. Who runs what comes from
 * `plan.bans`; the figures are assumptions (sizing/assumptions.ts). Pure.
 */
import type { BanMember } from "../plan/bans";
import type { Assumptions } from "./assumptions";
import { CapacityLine, fit, line, Sizing } from "./capacity-lines";
import { MIB_PER_GIB, num, pct } from "./format";

/** The LAPI's `flush: max_items` (render/bans/crowdsec.ts writes it; test/sizing/ban-grid.test.ts pins the two). */
export const LAPI_MAX_ALERTS = 500_000;

const BYTES_PER_MIB = 1024 * 1024;

/** Seconds of a Go duration as plan/bans.ts's goDuration writes it: `168h`, `1h2m5s`, `0s`. */
export function goSeconds(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === "") throw new Error(`not a Go duration: "${d}"`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

type Part = readonly [label: string, mb: number, detail?: string];

/** The ban set at its assumed peak, MiB: held in kernel memory by every enforcement point. */
export function banSetMb(a: Assumptions): number {
  return (a.bansPeak * a.banSetBytesPerBan) / BYTES_PER_MIB;
}

/** A member's own share: its agent and, where it enforces, its bouncer and the ban set. */
function memberParts(a: Assumptions, m: BanMember): Part[] {
  const set: Part = ["ban set", banSetMb(a), `${num(a.bansPeak)} × ${num(a.banSetBytesPerBan)} B`];
  return [["agent", a.agentMb], ...(m.enforce ? ([["bouncer", a.bouncerMb], set] as Part[]) : [])];
}

const total = (parts: readonly Part[]) => parts.reduce((acc, [, mb]) => acc + mb, 0);
const mib = (mb: number) => `${num(mb, Number.isInteger(mb) ? 0 : 1)} MiB`;
const words = (parts: readonly Part[]) => parts.map(([label, mb, detail]) => `${label} ${mib(mb)}${detail ? ` (${detail})` : ""}`).join(" + ");

function member(s: Sizing, name: BanMember["name"]): BanMember {
  const m = s.plan.bans.members.find((x) => x.name === name);
  if (!m) throw new Error(`plan.bans has no member "${name}"`);
  return m;
}

/** A VM's RAM: what it runs without the grid, plus the grid's parts, against its planned memory. */
function vmRamLine(s: Sizing, resource: string, base: Part, grid: readonly Part[], availableMb: number, what: string, key: string): CapacityLine {
  const needed = base[1] + total(grid);
  const status = fit(needed, availableMb, s.a);
  const how = `${base[0]} ${mib(base[1])} + ban grid: ${words(grid)} = ${mib(needed)}`;
  const note =
    status === "fail"
      ? `${what} RAM: ${how} exceed ${mib(availableMb)} by ${mib(needed - availableMb)}; raise ${key} to at least ${Math.ceil(needed)}`
      : `${how} of ${mib(availableMb)} (${pct(needed / availableMb)})`;
  return line(resource, needed, availableMb, "MiB", status, note, key);
}

/** The services VM holds the decision store, its own agent and the report gateway next to BIND and dnsmasq. */
export function servicesRamLine(s: Sizing): CapacityLine {
  const { a } = s;
  const grid: Part[] = [["LAPI", a.lapiMb], ...memberParts(a, member(s, "services")), ...(s.plan.bans.report ? ([["report gateway", a.reportGatewayMb]] as Part[]) : [])];
  return vmRamLine(s, "RAM (services)", ["Debian, BIND and dnsmasq", a.servicesBaseMb], grid, s.infra.servicesMemoryMb, "services VM", "services.memoryMb");
}

/** Each VPN server runs an agent and a bouncer and holds the ban set beside its OpenVPN servers. */
export function vpnRamLine(s: Sizing): CapacityLine {
  const { a } = s;
  const servers = s.plan.bans.members.filter((m) => m.name === "vpn1" || m.name === "vpn2");
  // The servers are planned alike; size for the hungriest.
  const grid = servers.map((m) => memberParts(a, m)).reduce((w, p) => (total(p) > total(w) ? p : w));
  return vmRamLine(s, "RAM (VPN VM)", ["Debian and OpenVPN", a.vpnBaseMb], grid, s.infra.vpnMemoryMb, `each of the ${servers.length} VPN servers'`, "vpn.memoryMb");
}

/** The host's agent, bouncer and ban set (the bridge set in front of every tenant) come out of its reserve; in a cluster each node's. */
export function hostGridLine(s: Sizing): CapacityLine {
  const { a } = s;
  const grid = memberParts(a, member(s, "host"));
  const needed = total(grid);
  const reserveMb = a.hostReserveGb * MIB_PER_GIB;
  const status = fit(needed, reserveMb, a);
  const how = `${words(grid)} = ${mib(needed)}`;
  const note =
    status === "fail"
      ? `host ban grid: ${how} exceed the host's reserve of ${mib(reserveMb)} (assumptions.hostReserveGb) by ${mib(needed - reserveMb)}; raise assumptions.hostReserveGb`
      : `${how} of ${s.plan.nodes.length > 1 ? "each node's" : "the host's"} ${num(a.hostReserveGb, 1)} GiB reserve (assumptions.hostReserveGb, ${pct(needed / reserveMb)}), not in addition to it${s.plan.nodes.length > 1 ? ": every node runs its own agent and bouncer" : ""}`;
  return line("RAM (host bans)", needed, reserveMb, "MiB", status, note, "assumptions.hostReserveGb");
}

/** Alerts the LAPI holds: keepFor × bans a day, at most max_items; and the database at both. */
export function banDatabase(s: Sizing): { keepSeconds: number; detected: number; stored: number; gib: number; capGib: number } {
  const { a } = s;
  const keepSeconds = goSeconds(s.plan.bans.profile.keepFor);
  const detected = Math.ceil((keepSeconds / 86400) * a.bansPerDay);
  const stored = Math.min(detected, LAPI_MAX_ALERTS);
  const gibOf = (alerts: number) => (alerts * a.lapiKibPerBan) / BYTES_PER_MIB;
  return { keepSeconds, detected, stored, gib: gibOf(stored), capGib: gibOf(LAPI_MAX_ALERTS) };
}

/** The services VM's disk: the system plus the LAPI's sqlite; warns when the database at max_items would not fit. */
export function servicesDiskLine(s: Sizing): CapacityLine {
  const { a, plan } = s;
  const db = banDatabase(s);
  const needed = a.infraSystemGb + db.gib;
  const capNeeded = a.infraSystemGb + db.capGib;
  const available = a.infraVmDiskGb;
  let status = fit(needed, available, a);
  if (status === "ok" && capNeeded > available) status = "warn";
  const days = db.keepSeconds / 86400;
  const reports = plan.bans.report ? plan.tenants.length * plan.bans.report.quotaPerHour * 24 : 0;
  const kept = `alerts kept ${plan.bans.profile.keepFor} = ${num(days, Number.isInteger(days) ? 0 : 2)} days × ${num(a.bansPerDay)} bans/day = ${num(db.detected)}${db.detected > LAPI_MAX_ALERTS ? `, capped at max_items ${num(LAPI_MAX_ALERTS)}` : ""}, × ${num(a.lapiKibPerBan)} KiB`;
  const how = `Debian, packages and logs ${num(a.infraSystemGb, 1)} GiB + ban database ${num(db.gib, 2)} GiB (${kept}) = ${num(needed, 1)} GiB`;
  const cap = `at max_items (${num(LAPI_MAX_ALERTS)} alerts) the database reaches ${num(db.capGib, 2)} GiB (${num(capNeeded, 1)} GiB in all)`;
  const quota = reports ? `; tenants' reports alone may add ${num(reports)} a day (${plan.tenants.length} × ${plan.bans.report?.quotaPerHour}/h × 24)` : "";
  const fix = "give the server template (template.serverVmid) a larger disk and raise assumptions.infraVmDiskGb to match, or shorten bans.repeat.window and bans.repeat.maxBanTime";
  const note =
    status === "fail"
      ? `services VM disk: ${how} exceed ${num(available, 1)} GiB by ${num(needed - available, 1)} GiB; ${fix}`
      : `${how} of ${num(available, 1)} GiB (${pct(needed / available)}); ${cap}${capNeeded > available ? `, over the disk by ${num(capNeeded - available, 1)} GiB: ${fix}` : ""}${quota}`;
  return line("disk (services)", needed, available, "GiB", status, note, "assumptions.infraVmDiskGb");
}

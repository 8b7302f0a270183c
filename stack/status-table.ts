/** `npm run status`'s table: machines, tenants, what expires soonest, the alerts. Pure text. */
import { table } from "../lib/table";
import type { StatusReport } from "./status";

const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace(/\.\d+Z$/, "Z").replace("T", " ");
const bytes = (n: number | undefined) => (n === undefined ? "-" : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(1)} GiB`);
const span = (s: number) => (Math.abs(s) < 3600 ? `${Math.round(s / 60)}m` : Math.abs(s) < 86400 * 2 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`);

/** How many certificate ends the table lists (the JSON has all). */
export const EXPIRING_SHOWN = 5;

export function statusTable(r: StatusReport): string {
  const machines = table(
    [
      ["machine", "role", "exporter", "state", "instances (sessions/max)", "bans", "metrics"],
      ...r.servers.map((s) =>
        s.reachable
          ? [s.server, s.role, s.address, "up", s.instances.map((i) => `${i.id} ${i.up ? "up" : "DOWN"} ${i.sessions}/${i.maxSessions}`).join(", ") || "-", s.bansInForce ?? "-", s.metricsAgeSeconds === undefined ? "-" : `${Math.round(s.metricsAgeSeconds)}s old`]
          : [s.server, s.role, s.address, `UNREACHABLE: ${s.error ?? "?"}`, "-", "-", "-"],
      ),
    ],
    { rule: true },
  );
  const tenants = r.tenants.length
    ? table(
        [
          ["tenant", "state", "via", "since", "in", "out", "pinned", "last refusal", "cert ends"],
          ...r.tenants.map((t) => [
            t.key,
            t.state,
            t.via ?? "-",
            t.since === undefined ? "-" : iso(t.since),
            bytes(t.receivedBytes),
            bytes(t.sentBytes),
            t.pinned === undefined ? "-" : t.pinned ? "yes" : "no",
            t.lastRefusal ? `${t.lastRefusal.reason} ${iso(t.lastRefusal.at)} on ${t.lastRefusal.server}` : "-",
            t.certExpiry === undefined ? "-" : iso(t.certExpiry),
          ]),
        ],
        { rule: true },
      )
    : "no tenant";
  const soon = r.expiring.slice(0, EXPIRING_SHOWN);
  const expiring = soon.length ? table([["certificate", "ends", "in"], ...soon.map((e) => [`${e.kind} ${e.name}`, iso(e.at), span(e.at - r.at)])], { rule: true }) : "no certificate figures";
  const alerts =
    "error" in r.alerts
      ? `alerts: Prometheus UNREACHABLE: ${r.alerts.error}`
      : r.alerts.firing.length
        ? table([["alert firing", "severity", "on", "since", "summary"], ...r.alerts.firing.map((a) => [a.labels.alertname ?? "?", a.labels.severity ?? "-", a.labels.tenant ?? a.labels.id ?? a.labels.server ?? "-", a.activeAt ?? "-", a.annotations?.summary ?? ""])], { rule: true })
        : `alerts firing: none${r.alerts.pending.length ? ` (${r.alerts.pending.length} pending: ${r.alerts.pending.map((a) => a.labels.alertname).join(", ")})` : ""}`;
  return [`stack ${r.stack} at ${iso(r.at)}`, machines, tenants, `expires soonest\n${expiring}`, alerts].join("\n\n");
}

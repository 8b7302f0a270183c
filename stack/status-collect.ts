/**
 * Gathers what `statusReport` needs: every exporter's `/metrics` and Prometheus' `/api/v1/alerts`, all at once,
 * through the caller's `fetchText` (HTTP from the CLI, curl inside a namespace in the lab). A failure is kept as
 * that machine's error, never thrown.
 */
import { parseProm } from "../lib/prom-text";
import type { MonitoringPlan } from "../plan/monitoring";
import type { Plan } from "../plan/types";
import { type AlertsAnswer, type PromAlert, type Scrape, type StatusReport, statusReport } from "./status";

/** Resolves with the body of a 2xx answer; rejects with a short reason otherwise. */
export type FetchText = (url: string) => Promise<string>;

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);

export async function collectStatus(plan: Plan, mon: MonitoringPlan, fetchText: FetchText, now: () => number = () => Date.now() / 1000): Promise<StatusReport> {
  const scrapes = mon.exporters.map(async (e): Promise<Scrape> => {
    try {
      return { server: e.server, samples: parseProm(await fetchText(`http://${e.address}/metrics`)) };
    } catch (err) {
      return { server: e.server, error: reason(err) };
    }
  });
  const alerts = (async (): Promise<AlertsAnswer> => {
    try {
      const doc = JSON.parse(await fetchText(`${mon.prometheus.url}api/v1/alerts`)) as { status?: string; data?: { alerts?: PromAlert[] } };
      if (doc.status !== "success" || !Array.isArray(doc.data?.alerts)) return { error: "Prometheus answered no alert list" };
      return { alerts: doc.data.alerts };
    } catch (err) {
      return { error: reason(err) };
    }
  })();
  return statusReport(plan, mon, await Promise.all(scrapes), await alerts, now());
}

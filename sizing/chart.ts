/**
 * A small hand-built SVG bar chart: how full each resource is, one bar per stack. Bars are capped at
 * 150 % so an overfull resource stays on the page; a dashed line marks 100 %. Pure: returns a string.
 */
import type { CapacityReport, Status } from "./capacity";

/** Lines whose utilisation means "share of a resource in use" (the installer and money lines do not). */
export const CHARTED = ["RAM (floors)", "RAM (expected)", "RAM (ceiling)", "disk (base)", "disk (tenants)", "CPU", "public IPs", "VLANs", "tenants", "bandwidth", "power", "RAM (services)", "RAM (VPN VM)", "RAM (host bans)", "disk (services)"];

const COLOURS: Record<Status, string> = { ok: "#2e7d32", warn: "#f9a825", fail: "#c62828" };
const STACK_SHADES = ["#455a64", "#78909c", "#b0bec5", "#cfd8dc"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** SVG of the charted lines of each report (bar colour = status, label = stack and percentage). */
export function capacityChart(reports: readonly CapacityReport[]): string {
  const labelW = 120;
  const plotW = 360;
  const bar = 12;
  const gap = 2;
  const groupGap = 10;
  const top = 40;
  const cap = 1.5;
  const groupH = reports.length * (bar + gap) + groupGap;
  const height = top + CHARTED.length * groupH + 24;
  const width = labelW + plotW + 90;
  const x = (u: number) => labelW + (Math.min(u, cap) / cap) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img" aria-label="capacity utilisation per resource">`,
    `<title>Capacity: ${esc(reports.map((r) => `${r.stack} (${r.profile})`).join(", "))}</title>`,
    `<text x="${labelW}" y="14" font-weight="bold">share of each resource in use (100 % = full)</text>`,
  ];
  reports.forEach((r, i) => {
    out.push(`<text x="${labelW - 100 + i * 165}" y="${height - 6}" fill="${STACK_SHADES[i % STACK_SHADES.length]}">■ ${esc(r.stack)} (${r.tenants} tenants)</text>`);
  });
  CHARTED.forEach((resource, g) => {
    const y0 = top + g * groupH;
    out.push(`<text x="${labelW - 6}" y="${y0 + (reports.length * (bar + gap)) / 2 + 4}" text-anchor="end">${esc(resource)}</text>`);
    reports.forEach((r, i) => {
      const l = r.lines.find((x) => x.resource === resource);
      if (!l) return;
      const y = y0 + i * (bar + gap);
      const w = Math.max(1, x(l.utilisation) - labelW);
      out.push(`<rect x="${labelW - 4}" y="${y}" width="3" height="${bar}" fill="${STACK_SHADES[i % STACK_SHADES.length]}"/>`);
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${COLOURS[l.status]}"><title>${esc(`${r.stack} ${resource}: ${Math.round(l.utilisation * 100)} % (${l.status})`)}</title></rect>`);
      out.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + bar - 2}">${Number.isFinite(l.utilisation) ? Math.round(l.utilisation * 100) : "∞"} %${l.status === "ok" ? "" : ` ${l.status}`}</text>`);
    });
  });
  const full = x(1).toFixed(1);
  out.push(`<line x1="${full}" y1="${top - 6}" x2="${full}" y2="${top + CHARTED.length * groupH - groupGap}" stroke="#000" stroke-dasharray="3,3"/>`);
  out.push(`<text x="${full}" y="${top - 10}" text-anchor="middle">100 %</text>`);
  out.push("</svg>");
  return out.join("\n");
}

/**
 * `npm run bench` (part 2): the functional core alone, for 500 tenants: buildPlan, then every renderer for
 * every tenant and both servers (what a `pulumi up` renders). Median of several in-process runs after a
 * warm-up. Prints a table, writes bench/out/pure.json. Goal (reported, not asserted): ≤ 250 ms.
 *
 *   tsx bench/pure.ts [--stack full] [--tenants 500] [--runs 9]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readStackFile } from "../config/load";
import { parseOptions } from "../lib/args";
import { buildPlan } from "../plan/build";
import type { Plan } from "../plan/types";
import { renderCcd } from "../render/ccd";
import { renderClientBundle } from "../render/client-bundle";
import { hostConsoleFirewallScripts } from "../render/host-console";
import { PRODUCTION_HOST_LAYOUT, PRODUCTION_SERVER_LAYOUT } from "../render/layout";
import { renderLauncher } from "../render/launcher";
import { reverseZones } from "../render/reverse-dns";
import { serverFiles } from "../render/server-files";
import { renderServerSetupScript } from "../render/server-setup";
import { tenantServerScripts } from "../render/tenant-scripts";
import { renderKvmArguments } from "../render/vnc";
import { goalLine, median, table } from "./report";

const ROOT = join(__dirname, "..");
const options = parseOptions(process.argv.slice(2), { stack: { type: "string" }, tenants: { type: "string" }, runs: { type: "string" } });
const arg = (name: keyof typeof options, dflt: string): string => options[name] ?? dflt;

/** Stand-ins for the PKI outputs the client bundle and the server files embed (shape only; nothing parses them). */
const CREDS = {
  caPem: "-----BEGIN CERTIFICATE-----\nBENCHCA\n-----END CERTIFICATE-----\n",
  certPem: "-----BEGIN CERTIFICATE-----\nBENCHCERT\n-----END CERTIFICATE-----\n",
  keyPem: "-----BEGIN PRIVATE KEY-----\nBENCHKEY\n-----END PRIVATE KEY-----\n",
  // One stand-in for the server key (server files) and a tenant's client key (bundle): only the bundle checks the header.
  tlsCryptV2Key: "-----BEGIN OpenVPN tls-crypt-v2 client key-----\nBENCHTC2\n-----END OpenVPN tls-crypt-v2 client key-----\n",
  tc2KeyId: "0123456789abcdef",
};

interface Totals {
  files: number;
  bytes: number;
}

/** Every rendered text of one plan; returns how many and how big (so nothing is optimised away). */
function renderAll(plan: Plan): Totals {
  const t: Totals = { files: 0, bytes: 0 };
  const add = (text: string) => {
    t.files++;
    t.bytes += text.length;
  };
  const layout = PRODUCTION_SERVER_LAYOUT;
  for (const server of plan.servers) {
    // The production list (configs, hooks, PKI files); the setup script renders the tool and its unit itself.
    const files = serverFiles(plan, server, layout, CREDS);
    add(renderServerSetupScript(plan, server, layout, files, { trunkMac: "bc:24:11:00:00:01" }));
    for (const f of files) add(f.content);
  }
  const host = hostConsoleFirewallScripts(plan, PRODUCTION_HOST_LAYOUT);
  add(host.apply);
  add(host.delete);
  for (const z of reverseZones(plan)) add(JSON.stringify(z));
  for (const tenant of plan.tenants) {
    add(renderKvmArguments(plan, tenant, PRODUCTION_HOST_LAYOUT));
    add(renderClientBundle(plan, tenant, CREDS));
    add(renderLauncher(plan.stack, tenant));
    for (const server of plan.servers) {
      for (const i of server.instances) add(renderCcd(plan.stack, tenant, i));
      const scripts = tenantServerScripts(plan, server, tenant, layout, CREDS.certPem, CREDS.tc2KeyId);
      add(scripts.apply);
      add(scripts.delete);
    }
  }
  return t;
}

function main(): void {
  const stack = arg("stack", "full");
  const tenants = Number(arg("tenants", "500"));
  const runs = Number(arg("runs", "9"));
  const base = readStackFile(ROOT, stack) as Record<string, unknown> & { numberedTenants?: Record<string, unknown> };
  const raw = { ...base, numberedTenants: { ...base.numberedTenants, count: tenants } };

  const once = () => {
    const t0 = performance.now();
    const plan = buildPlan(raw, stack);
    const t1 = performance.now();
    const totals = renderAll(plan);
    const t2 = performance.now();
    return { planMs: t1 - t0, renderMs: t2 - t1, totalMs: t2 - t0, totals, tenants: plan.tenants.length };
  };
  once(); // warm-up: module init and JIT
  const samples = Array.from({ length: runs }, once);
  const m = { planMs: median(samples.map((s) => s.planMs)), renderMs: median(samples.map((s) => s.renderMs)), totalMs: median(samples.map((s) => s.totalMs)) };
  const { totals } = samples[0];
  const goal = goalLine(`plan + render, ${samples[0].tenants} tenants`, m.totalMs, 250, "≤ms");
  const out = [
    `Functional core: buildPlan + every renderer (stack ${stack}, ${samples[0].tenants} tenants, median of ${runs} runs after a warm-up)`,
    table(
      ["step", "median ms", "min ms", "max ms"],
      (["planMs", "renderMs", "totalMs"] as const).map((k) => [k.replace("Ms", ""), m[k].toFixed(1), Math.min(...samples.map((s) => s[k])).toFixed(1), Math.max(...samples.map((s) => s[k])).toFixed(1)]),
    ),
    `rendered ${totals.files} texts, ${(totals.bytes / 1024 / 1024).toFixed(1)} MiB`,
    "",
    table(["goal", "measured", "limit", "met"], [[goal.name, goal.measured, goal.limit, goal.met ? "yes" : "NO"]]),
  ].join("\n");
  process.stdout.write(`${out}\n`);
  mkdirSync(join(ROOT, "bench/out"), { recursive: true });
  writeFileSync(join(ROOT, "bench/out/pure.json"), `${JSON.stringify({ stack, tenants: samples[0].tenants, runs, node: process.version, median: m, totals, samples, goal }, null, 2)}\n`);
}

main();

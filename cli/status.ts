/**
 * `npm run status -- --stack <name> [--format table|json] [--tenant KEY] [--via ssh|direct] [--timeout-ms N]`:
 * the service at a glance from the servers' own metrics. The management network is reached the way the program
 * reaches it: through the Proxmox host (`ssh <proxmox.sshUser>@<endpoint host>`, its host key pinned when
 * `proxmox.sshHostKey` is set; your SSH agent or key, as for `pulumi up`), or `--via direct` from a machine on the
 * management network (the lab, a VPN into it). An unreachable machine is a line in the report, not a failure.
 * Exit 0 when every machine answered and no alert fires, 1 otherwise, 2 for a wrong command line.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../config/errors";
import { readStackFile } from "../config/load";
import { closest } from "../lib/closest";
import { planMonitoring } from "../plan/monitoring";
import type { Plan } from "../plan/types";
import { planStack } from "../plan/build";
import { validateStack } from "../plan/validate";
import { resolveAssumptions } from "../sizing/assumptions";
import { type FetchText, collectStatus } from "../stack/status-collect";
import { forTenant, statusCode, type StatusReport } from "../stack/status";
import { statusTable } from "../stack/status-table";
import { parseCommon, UsageError } from "./args";

const USAGE = "usage: npm run status -- --stack <name> [--format table|json] [--tenant KEY] [--via ssh|direct] [--timeout-ms N] [--dir <dir>]";

/** HTTP GET from here; the reason of a failure in a few words (ECONNREFUSED, timeout, HTTP 503). */
export function directFetch(timeoutMs: number): FetchText {
  return async (url) => {
    let r: Response;
    try {
      r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === "TimeoutError") throw new Error(`no answer within ${timeoutMs} ms`);
      throw new Error(err.cause?.code ?? err.cause?.message ?? err.message);
    }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.text();
  };
}

/** `curl` on the Proxmox host over SSH (the program's own path to the management network). */
export function sshFetch(plan: Plan, timeoutMs: number): { fetch: FetchText; close(): void } {
  const host = new URL(plan.proxmox.endpoint).hostname;
  const dir = mkdtempSync(join(tmpdir(), "lr-status-"));
  const pin = plan.proxmox.sshHostKey;
  if (pin) writeFileSync(join(dir, "known_hosts"), `${host} ${pin}\n`);
  const opts = ["-o", "BatchMode=yes", "-o", `ConnectTimeout=${Math.ceil(timeoutMs / 1000)}`, ...(pin ? ["-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes"] : [])];
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const fetchText: FetchText = (url) =>
    new Promise((resolve, reject) => {
      if (!/^http:\/\/[0-9.]+:\d+\/[A-Za-z0-9/_.-]*$/.test(url)) return reject(new Error(`refusing to fetch ${url}`));
      execFile("ssh", [...opts, `${plan.proxmox.sshUser}@${host}`, "curl", "-fsS", "--max-time", String(seconds), url], { timeout: timeoutMs * 2 + 5000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error((stderr.trim().split("\n").pop() || err.message).slice(0, 200)));
        else resolve(stdout);
      });
    });
  return { fetch: fetchText, close: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The tenant key as the stack has it, or a UsageError with the nearest key. */
export function checkTenant(plan: Plan, key: string): string {
  const keys = plan.tenants.map((t) => t.key);
  if (keys.includes(key)) return key;
  const near = closest(key, keys);
  throw new UsageError(`--tenant ${key}: stack ${plan.stack} has no tenant "${key}"${near ? ` (did you mean "${near}"?)` : ""}; its tenants: ${keys.length > 12 ? `${keys.slice(0, 12).join(", ")}, … (${keys.length})` : keys.join(", ")}`);
}

async function main(argv: string[]): Promise<number> {
  const { common, values } = parseCommon(argv, ["table", "json"], {
    tenant: { type: "string" },
    via: { type: "string", default: "ssh" },
    "timeout-ms": { type: "string", default: "5000" },
  });
  if (common.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const via = String(values.via);
  if (via !== "ssh" && via !== "direct") throw new UsageError(`--via must be ssh or direct; got "${via}"`);
  const timeoutMs = Number(values["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) throw new UsageError(`--timeout-ms must be a whole number of milliseconds from 100 to 120000; got "${String(values["timeout-ms"])}"`);
  const valid = validateStack(readStackFile(common.dir, common.stack), common.stack);
  const plan = planStack(valid, common.stack);
  const tenant = typeof values.tenant === "string" ? checkTenant(plan, values.tenant) : undefined;
  const mon = planMonitoring(plan, valid.config.monitoring, resolveAssumptions(plan.sizing.assumptions).assumptions.warnAt);
  if (!mon.enabled) throw new UsageError(`stack ${plan.stack} has monitoring.enabled false: no exporter to ask`);
  const transport = via === "direct" ? { fetch: directFetch(timeoutMs), close: () => undefined } : sshFetch(plan, timeoutMs);
  let report: StatusReport;
  try {
    report = await collectStatus(plan, mon, transport.fetch);
  } finally {
    transport.close();
  }
  if (tenant) report = forTenant(report, tenant);
  process.stdout.write(`${common.format === "json" ? JSON.stringify(report, null, 2) : statusTable(report)}\n`);
  return statusCode(report);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      if (e instanceof ConfigError) {
        process.stderr.write(`${e.message}\n`);
        process.exitCode = 1;
      } else if (e instanceof UsageError) {
        process.stderr.write(`${e.message}\n\n${USAGE}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
        process.exitCode = 2;
      }
    },
  );
}

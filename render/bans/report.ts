/**
 * The tenants' report gateway (render/scripts/lr-ban-report.py, python3 stdlib) on the services VM: its config,
 * which holds the key tenants' tokens are signed with and the gateway's own LAPI password, so it is root's alone (0600) and the
 * unprivileged service gets it through systemd's LoadCredential. Pure.
 */
import type { BanReportPlan, BansPlan } from "../../plan/bans";
import type { SetupFile } from "../shell";
import type { BanPaths } from "./paths";

export interface ReportSecrets {
  /** The gateway's LAPI machine password. */
  readonly password: string;
  /** Bearer token per tenant key in the config itself (the lab); production passes none and signs tokens instead. */
  readonly tokens: Readonly<Record<string, string>>;
  /** The key every tenant's token is an HMAC under (tenantReportToken). */
  readonly tokenKey?: string;
}

/**
 * The gateway's JSON config. `requireGlobal` (default true) also refuses every non-global address; the lab's
 * "internet" is made of documentation blocks, so its test turns it off.
 */
export function reportConfig(bans: BansPlan, p: BanPaths, secrets: ReportSecrets, requireGlobal = true): SetupFile {
  const r: BanReportPlan | undefined = bans.report;
  if (!r) throw new Error("reportConfig: bans.report.enabled is false");
  const tenants = Object.fromEntries(r.tenants.filter((t) => secrets.tokens[t.key]).map((t) => [t.key, { token: secrets.tokens[t.key], sources: [t.source] }]));
  const cfg = {
    listen: `${r.listen.ip}:${r.listen.port}`,
    lapi: bans.lapi.url,
    lapiCa: p.caCert,
    login: r.machine,
    password: secrets.password,
    quotaPerHour: r.quotaPerHour,
    requireGlobal,
    stateFile: p.reportState,
    protected: r.scope,
    tenants,
    // Production: no tenant above; each tenant's token is signed with this (render/bans/tenant-report.ts).
    ...(secrets.tokenKey ? { tokenKey: secrets.tokenKey } : {}),
  };
  return { path: p.reportConfig, mode: "0600", content: `${JSON.stringify(cfg, null, 2)}\n` };
}

/** The gateway's unit (services VM): a dynamic user, its config handed over as a credential, its quota state kept. */
export function reportUnit(p: BanPaths): SetupFile {
  return {
    path: "/etc/systemd/system/lr-ban-report.service",
    mode: "0644",
    content: `[Unit]\nDescription=librerouter-hosting ban reports from tenants\nAfter=network-online.target crowdsec.service\n\n[Service]\nDynamicUser=yes\nStateDirectory=lr-ban-report\nLoadCredential=report.json:${p.reportConfig}\nExecStart=/usr/bin/python3 ${p.bin}/lr-ban-report.py \${CREDENTIALS_DIRECTORY}/report.json\nRestart=always\nRestartSec=5\nNoNewPrivileges=yes\nProtectSystem=strict\n\n[Install]\nWantedBy=multi-user.target\n`,
  };
}

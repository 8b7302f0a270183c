/**
 * The ban grid's setup script per member (bash, fed on stdin: it carries secrets) and the enrolment input for the
 * services VM. Secrets arrive as parameters (Pulumi secrets in the program) and only go into 0600/0640 files or
 * on stdin. Env `LR_SERVICES=systemd|none` (`none`: the e2e test, files and nft only, no apt, no systemctl).
 */
import { type BanMember, type BanMemberName, type BansPlan, banCredentials } from "../../plan/bans";
import { scriptFile } from "../script-file";
import { LR_WRITE_FN, type SetupFile, scriptHead, shq, writeFile } from "../shell";
import { type Acquisition, acquisition, credentialsFile, crowdsecConfig, hubItems, profilesYaml } from "./crowdsec";
import { BAN_OWNER, BAN_USER, bouncerConfig, nftTable, systemdUnits } from "./enforce";
import { ownItems } from "./items";
import type { BanPaths } from "./paths";
import { type ReportSecrets, reportConfig, reportUnit } from "./report";

export interface MemberSecrets {
  /** This member's agent password on the LAPI (not the services VM's: its agent's machine is made locally). */
  readonly machinePassword?: string;
  /** This member's bouncer API key (enforcement points only). */
  readonly bouncerKey?: string;
}

/** What only the services VM gets: the LAPI's TLS key pair and the gateway's secrets. */
export interface LapiSecrets {
  readonly certPem: string;
  readonly keyPem: string;
  readonly report?: ReportSecrets;
}

export interface MemberSetupArgs {
  readonly member: BanMemberName;
  readonly paths: BanPaths;
  readonly acquisition: Acquisition;
  readonly caPem: string;
  readonly secrets: MemberSecrets;
  readonly lapi?: LapiSecrets;
  /** Files owned by this user:group, the daemons' user (default BAN_OWNER; the install step creates it). */
  readonly owner?: string;
  /** The gateway's requireGlobal (false only in the lab). */
  readonly requireGlobal?: boolean;
}

export const INSTALL_BODY = scriptFile("lr-ban-install.sh");
export const WAIT_LAPI = scriptFile("lr-ban-wait-lapi.sh");
export const REPORT_PY = scriptFile("lr-ban-report.py");
export const ENROL_PY = scriptFile("lr-ban-enrol.py");

function memberOf(bans: BansPlan, name: BanMemberName): BanMember {
  const m = bans.members.find((x) => x.name === name);
  if (!m) throw new Error(`ban grid: no member ${name}`);
  return m;
}

/** Every file the member gets, with its mode; systemd units only under LR_SERVICES=systemd (see setupScript). */
export function memberFiles(bans: BansPlan, a: MemberSetupArgs): { files: SetupFile[]; units: SetupFile[] } {
  const m = memberOf(bans, a.member);
  const p = a.paths;
  const files: SetupFile[] = [
    { path: `${p.etc}/config.yaml`, mode: "0644", content: crowdsecConfig(bans, m, p) },
    { path: `${p.etc}/simulation.yaml`, mode: "0644", content: "simulation: off\n" },
    { path: `${p.etc}/acquis.yaml`, mode: "0644", content: acquisition(m, a.acquisition) },
    ...(m.name === "services" ? [] : [credentialsFile(bans, m, p, password(m, a.secrets))]),
    { path: p.caCert, mode: "0644", content: a.caPem },
    { path: `${p.bin}/lr-ban-wait-lapi.sh`, mode: "0755", content: WAIT_LAPI },
    ...Object.entries(ownItems(bans, m.sources)).map(([rel, content]) => ({ path: `${p.etc}/${rel}`, mode: "0644", content })),
  ];
  const units = systemdUnits(bans, m, p);
  if (m.enforce) {
    if (!a.secrets.bouncerKey) throw new Error(`ban grid: ${m.name} enforces bans but has no bouncer key`);
    files.push({ path: `${p.etc}/lrban.nft`, mode: "0644", content: nftTable(bans, m) }, bouncerConfig(bans, p, a.secrets.bouncerKey));
  }
  if (m.name === "services") {
    if (!a.lapi) throw new Error("ban grid: the services VM needs the LAPI's TLS key pair");
    files.push(
      { path: `${p.etc}/profiles.yaml`, mode: "0644", content: profilesYaml(bans) },
      { path: p.lapiCert, mode: "0644", content: a.lapi.certPem },
      { path: p.lapiKey, mode: "0600", content: a.lapi.keyPem },
      { path: `${p.bin}/lr-ban-enrol.py`, mode: "0755", content: ENROL_PY },
    );
    if (bans.report) {
      if (!a.lapi.report) throw new Error("ban grid: bans.report.enabled needs the gateway's secrets");
      files.push(reportConfig(bans, p, a.lapi.report, a.requireGlobal ?? true), { path: `${p.bin}/lr-ban-report.py`, mode: "0755", content: REPORT_PY });
      units.push(reportUnit(p));
    }
  }
  return { files, units };
}

function password(m: BanMember, s: MemberSecrets): string {
  if (!s.machinePassword) throw new Error(`ban grid: ${m.name} has no machine password`);
  return s.machinePassword;
}

/** Which systemd units the install step enables and (re)starts on this member. */
export function memberUnits(bans: BansPlan, name: BanMemberName): string[] {
  const m = memberOf(bans, name);
  return [
    "crowdsec.service",
    ...(m.enforce ? ["lr-ban-table.service", "crowdsec-firewall-bouncer.service", "lr-ban-resync.timer"] : []),
    ...(name === "services" && bans.report ? ["lr-ban-report.service"] : []),
  ];
}

/** The member's setup script: writes every file (secrets inside, never echoed), then the static install step. */
export function setupScript(bans: BansPlan, a: MemberSetupArgs): string {
  const m = memberOf(bans, a.member);
  const owner = a.owner ?? BAN_OWNER;
  const { files, units } = memberFiles(bans, a);
  const list = (xs: readonly string[]) => `(${xs.map(shq).join(" ")})`;
  // The gateway's config stays root's: systemd hands it over (LoadCredential); the daemons' user never reads it.
  const ownerOf = (f: SetupFile) => (f.path === a.paths.reportConfig ? "root:root" : owner);
  // A function: the install step calls it once the owner exists.
  return `${scriptHead(`ban grid on ${m.name}`, true)}${LR_WRITE_FN}
lr_ban_files() {
${files.map((f) => writeFile(f, ownerOf(f))).join("\n")}
if [[ $LR_SERVICES == systemd ]]; then
${units.map((f) => writeFile(f, "root:root", "  ")).join("\n")}
fi
}
LR_BAN_ETC=${shq(a.paths.etc)}
LR_BAN_HUB=${shq(a.paths.hub)}
LR_BAN_PATTERNS=${shq(a.paths.patterns)}
LR_BAN_OWNER=${shq(owner)}
LR_BAN_ITEMS=${list(hubItems(m))}
LR_BAN_FAMILY=${shq(m.enforce ?? "")}
LR_BAN_ALLOW=${shq(bans.neverBan.join(", "))}
LR_BAN_UNITS=${list(memberUnits(bans, a.member))}
LR_BAN_DATA=${shq(a.paths.data)}
LR_BAN_LOCAL_MACHINE=${shq(m.name === "services" ? m.machine : "")}
LR_BAN_LAPI_URL=${shq(bans.lapi.url)}
LR_BAN_CA=${shq(a.paths.caCert)}
${INSTALL_BODY}`;
}

/**
 * What removing the member from the grid undoes (the host keeps running after a `pulumi destroy`; a VM goes with its
 * disk anyway): our units stopped and gone, the nft table and every file we wrote. Debian's packages stay.
 */
export function teardownScript(bans: BansPlan, a: Pick<MemberSetupArgs, "member" | "paths">): string {
  const m = memberOf(bans, a.member);
  const units = memberUnits(bans, a.member);
  const { files, units: unitFiles } = memberFiles(bans, { ...a, acquisition: { kind: "journal" }, caPem: "", secrets: { machinePassword: "-", bouncerKey: "-" }, lapi: { certPem: "", keyPem: "", report: { password: "-", tokens: {} } } });
  const paths = [...new Set([...files, ...unitFiles].map((f) => f.path))].sort();
  const dropins = [...new Set(unitFiles.map((f) => f.path).filter((p) => p.includes(".service.d/")).map((p) => p.slice(0, p.lastIndexOf("/"))))];
  return `${scriptHead(`ban grid removal on ${m.name}`, true)}if [[ $LR_SERVICES == systemd ]]; then
  systemctl disable --now ${units.map(shq).join(" ")} 2>/dev/null || true
fi
${m.enforce ? `nft delete table ${m.enforce} lrban 2>/dev/null || true
` : ""}rm -f -- ${paths.map(shq).join(" ")}
rmdir -- ${dropins.map(shq).join(" ")} 2>/dev/null || true
rm -rf -- ${shq(a.paths.etc)} ${shq(a.paths.data)}
userdel ${BAN_USER} 2>/dev/null || true
if [[ $LR_SERVICES == systemd ]]; then systemctl daemon-reload; fi
echo "ban grid removed from ${m.name}"
`;
}

/** stdin of lr-ban-enrol.py on the services VM: every machine and bouncer with its secret (JSON). */
export function enrolInput(
  bans: BansPlan,
  p: BanPaths,
  secrets: { readonly machines: Readonly<Record<string, string>>; readonly bouncers: Readonly<Record<string, string>> },
  cscli: readonly string[] = ["cscli", "-c", `${p.etc}/config.yaml`],
): string {
  const { machines, bouncers } = banCredentials(bans);
  const missing = [...machines.filter((n) => !secrets.machines[n]), ...bouncers.filter((n) => !secrets.bouncers[n])];
  if (missing.length) throw new Error(`enrolInput: no secret for ${missing.join(", ")}`);
  return JSON.stringify({
    lapi: bans.lapi.url,
    ca: p.caCert,
    db: `${p.data}/crowdsec.db`,
    cscli,
    machines: Object.fromEntries(machines.map((n) => [n, secrets.machines[n]])),
    bouncers: Object.fromEntries(bouncers.map((n) => [n, secrets.bouncers[n]])),
  });
}

/**
 * The enrolment command's script (services VM): wait up to 120 s for the LAPI, then lr-ban-enrol.py with its input on
 * stdin, as the LAPI's user (its cscli and sqlite writes then never leave a file the LAPI cannot open).
 */
export function enrolScript(bans: BansPlan, p: BanPaths, secrets: Parameters<typeof enrolInput>[2], stack: string): string {
  return `#!/bin/bash
# Ban grid enrolment (stack ${stack}); rendered by librerouter-hosting.
set -euo pipefail
${shq(`${p.bin}/lr-ban-wait-lapi.sh`)} ${shq(`${bans.lapi.url}health`)} ${shq(p.caCert)} 120
runuser -u ${BAN_USER} -- /usr/bin/python3 ${shq(`${p.bin}/lr-ban-enrol.py`)} <<'LR_ENROL'
${enrolInput(bans, p, secrets)}
LR_ENROL
`;
}

/**
 * The ban grid for real, from the RENDERED files (render/bans/*), on namespaces the caller made: Debian's crowdsec
 * (LAPI + agent on the services VM, agents on vpn1, vpn2 and every Proxmox node), crowdsec-firewall-bouncer in
 * set-only mode on vpn1, vpn2 (inet) and every node (bridge), the tenants' report gateway: the members are
 * plan.bans.members (`host`, and `host-<node>` for each other node of a cluster). Each member is set up by its rendered
 * setup script (LR_SERVICES=none: files and nft only), the LAPI learns every machine and bouncer from the rendered
 * lr-ban-enrol.py, and the daemons run as their rendered systemd units say (ExecStartPre, then ExecStart: the
 * bouncer only once the LAPI answers; User=, Group=, SupplementaryGroups=, the capability sets and NoNewPrivileges=
 * through setpriv(1), each daemon's uid and capabilities checked once it runs) under the caller's Procs, which
 * stands for systemd. The daemons' user is made by the rendered install step, for real (users are machine-wide: a
 * user this run made is deleted again at the end). Used by the lab
 * (./bans.ts) and by the standalone harness (./ban-grid-lab.ts: test/e2e/ban-grid.test.ts, npm run bench:bans).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { BanMember, BanMemberName, BanSource, BansPlan } from "../plan/bans";
import type { Plan } from "../plan/types";
import type { BanPaths } from "../render/bans/paths";
import { banCredentials } from "../plan/bans";
import { BAN_USER, cscliArgv } from "../render/bans/enforce";
import { enrolScript, memberFiles, type MemberSetupArgs, setupScript } from "../render/bans/setup";
import { tenantReportToken } from "../render/bans/tenant-report";
import type { SetupFile } from "../render/shell";
import { must, run, sleep } from "./exec";
import type { Issued } from "./pki";
import type { Proc, Procs } from "./procs";

/** A member that runs a bouncer (plan.bans.members with `enforce`): vpn1, vpn2 and every Proxmox node. */
export type Enforcer = BanMemberName;

/** Every member of the grid, in the plan's order. */
export function gridMembers(bans: BansPlan): BanMemberName[] {
  return bans.members.map((m) => m.name);
}

/** The enforcement points: the members with a bouncer. */
export function gridEnforcers(bans: BansPlan): Enforcer[] {
  return bans.members.filter((m) => m.enforce).map((m) => m.name);
}

/** The members whose agent is a daemon of its own (the services VM's agent is the LAPI's crowdsec itself). */
export function gridAgents(bans: BansPlan): BanMemberName[] {
  return bans.members.filter((m) => m.name !== "services").map((m) => m.name);
}

/** Where a member's files live under `root` (production's tree, PRODUCTION_PATHS, moved into the run directory). */
export function banPaths(root: string): BanPaths {
  return {
    etc: `${root}/etc`,
    data: `${root}/data`,
    hub: "/var/lib/crowdsec/hub",
    patterns: "/etc/crowdsec/patterns",
    caCert: `${root}/tls/ca.crt`,
    lapiCert: `${root}/tls/lapi.crt`,
    lapiKey: `${root}/tls/lapi.key`,
    bouncerConfig: `${root}/bouncer.yaml`,
    reportConfig: `${root}/etc/report.json`,
    reportState: `${root}/data/report-state.json`,
    bin: `${root}/bin`,
  };
}

/** 40 letters and digits, like the program's RandomPassword (the secrets go into YAML, JSON and sourced sh). */
const secret = () => randomBytes(20).toString("hex");

/**
 * Fresh secrets for one run: a password per agent machine and the gateway, a key per bouncer, the key the tenants'
 * report tokens are signed with, and each tenant's token from it (what the program hands each tenant).
 */
export function gridSecrets(plan: Plan): { machines: Record<string, string>; bouncers: Record<string, string>; tokenKey: string; tokens: Record<string, string> } {
  const bans = plan.bans;
  const names = banCredentials(bans);
  const machines = Object.fromEntries(names.machines.map((n) => [n, secret()]));
  const bouncers = Object.fromEntries(names.bouncers.map((n) => [n, secret()]));
  const tokenKey = secret();
  return { machines, bouncers, tokenKey, tokens: Object.fromEntries(plan.tenants.map((t) => [t.key, tenantReportToken(tokenKey, t)])) };
}

/** A unit's command lines for `key` in order, as systemd reads them (an empty assignment clears the list). */
export function unitCommands(unit: string, key: "ExecStartPre" | "ExecStart"): string[] {
  const out: string[] = [];
  for (const line of unit.split("\n")) {
    if (!line.startsWith(`${key}=`)) continue;
    const v = line.slice(key.length + 1).trim();
    if (v) out.push(v);
    else out.length = 0;
  }
  return out;
}

/** A unit's last assignment of `key` ("" for an empty one, which resets it), undefined when it has none. */
export function unitSetting(unit: string, key: string): string | undefined {
  let v: string | undefined;
  for (const line of unit.split("\n")) if (line.startsWith(`${key}=`)) v = line.slice(key.length + 1).trim();
  return v;
}

/** `CAP_NET_ADMIN CAP_X` → ["net_admin", "cap_x"] as setpriv and capsh name them. */
function capNames(list: string): string[] {
  return list.split(/\s+/).filter(Boolean).map((c) => c.toLowerCase().replace(/^cap_/, ""));
}

/** Who a unit runs as, read from its text (undefined: no User=, root as systemd runs it). */
export interface UnitIdentity {
  readonly user: string;
  readonly group?: string;
  readonly supplementary: readonly string[];
  /** Ambient capabilities (also inherited, as systemd does), setpriv's names. */
  readonly ambient: readonly string[];
  /** The bounding set, undefined when the unit does not restrict it. */
  readonly bounding?: readonly string[];
  readonly noNewPrivileges: boolean;
}

export function unitIdentity(unit: string): UnitIdentity | undefined {
  const user = unitSetting(unit, "User");
  if (!user) return undefined;
  const bounding = unitSetting(unit, "CapabilityBoundingSet");
  return {
    user,
    group: unitSetting(unit, "Group") || undefined,
    supplementary: (unitSetting(unit, "SupplementaryGroups") ?? "").split(/\s+/).filter(Boolean),
    ambient: capNames(unitSetting(unit, "AmbientCapabilities") ?? ""),
    bounding: bounding === undefined ? undefined : capNames(bounding),
    noNewPrivileges: unitSetting(unit, "NoNewPrivileges") === "yes",
  };
}

/**
 * The setpriv(1) prefix that runs a command as systemd runs the unit: its user, its group (else the user's), the
 * user's groups plus SupplementaryGroups= (systemd calls initgroups), the ambient capabilities, the bounding set,
 * no new privileges.
 */
export async function setprivArgv(id: UnitIdentity): Promise<string[]> {
  const group = id.group ?? (await must(["id", "-gn", id.user])).trim();
  const groups = [...new Set([...(await must(["id", "-Gn", id.user])).trim().split(/\s+/), ...id.supplementary])];
  const caps = (xs: readonly string[]) => xs.map((c) => `+${c}`).join(",");
  return [
    "setpriv",
    `--reuid=${id.user}`,
    `--regid=${group}`,
    `--groups=${groups.join(",")}`,
    ...(id.ambient.length ? [`--inh-caps=${caps(id.ambient)}`, `--ambient-caps=${caps(id.ambient)}`] : []),
    ...(id.bounding ? [`--bounding-set=${["-all", ...id.bounding.map((c) => `+${c}`)].join(",")}`] : []),
    ...(id.noNewPrivileges ? ["--no-new-privs"] : []),
    "--",
  ];
}

/** What a running process is: its uids (real, effective, saved, fs) and its effective and bounding capabilities. */
export interface ProcPrivileges {
  readonly uids: readonly number[];
  readonly effective: readonly string[];
  readonly bounding: readonly string[];
}

/** `capsh --decode` of a /proc capability mask: setpriv's names, sorted. */
async function decodeCaps(hex: string): Promise<string[]> {
  const names = (await must(["capsh", `--decode=${hex}`])).trim().split("=")[1] ?? "";
  return capNames(names.replace(/,/g, " ")).sort();
}

export async function procPrivileges(pid: number): Promise<ProcPrivileges> {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (k: string) => new RegExp(`^${k}:\\s+(.*)$`, "m").exec(status)?.[1].trim() ?? fail(`/proc/${pid}/status has no ${k}:`);
  return { uids: field("Uid").split(/\s+/).map(Number), effective: await decodeCaps(field("CapEff")), bounding: await decodeCaps(field("CapBnd")) };
}

/** The first argument of a running process ("" once it is gone). */
function argv0(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
  } catch {
    return "";
  }
}

/** Polls `ok` every `everyMs`; the seconds it took. Throws after `ms`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000, everyMs = 100): Promise<number> {
  const start = Date.now();
  while (!(await ok())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(everyMs);
  }
  return (Date.now() - start) / 1000;
}

/** Resident memory of a process, MiB (NaN when it is gone). */
export function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
  } catch {
    return NaN;
  }
}

export interface GridSite {
  readonly plan: Plan;
  /** The namespace each member of plan.bans.members runs in. */
  readonly ns: Readonly<Partial<Record<BanMemberName, string>>>;
  /** The run's directory for the grid (members' trees, scripts, daemon logs). */
  readonly root: string;
  readonly procs: Procs;
  /** The service CA, and the LAPI's certificate from it (IP SAN plan.bans.lapi.ip). */
  readonly caPem: string;
  readonly lapiCert: Issued;
  /** The syslog-format files each member's agent reads, per source (created empty when missing). */
  readonly sources: Readonly<Partial<Record<BanMemberName, Partial<Record<BanSource, string>>>>>;
}

/** One grid run on a site: set up, started, inspected, stopped by the site's Procs. */
export class GridRun {
  readonly secrets: ReturnType<typeof gridSecrets>;
  /** Running daemons by name: lapi, agent-<m>, bouncer-<m>, gateway. */
  readonly daemons = new Map<string, Proc>();
  /** What each daemon ran as when it last started (checked against its unit then). */
  readonly privileges = new Map<string, ProcPrivileges>();
  /** Set when this run's install step made the daemons' user (removeUser deletes it again). */
  private madeUser = false;
  private readonly units = new Map<BanMemberName, SetupFile[]>();

  /** `secrets`: fresh ones by default (a caller that needs them before the run exists makes them with gridSecrets). */
  constructor(
    readonly site: GridSite,
    secrets = gridSecrets(site.plan),
  ) {
    this.secrets = secrets;
  }

  get bans() {
    return this.site.plan.bans;
  }
  /** Every member (plan.bans.members). */
  get members(): BanMemberName[] {
    return gridMembers(this.bans);
  }
  /** This run's enforcement points: what "every set" means. */
  get enforcers(): Enforcer[] {
    return gridEnforcers(this.bans);
  }
  member(name: BanMemberName): BanMember {
    return this.bans.members.find((m) => m.name === name) ?? fail(`ban grid: no member ${name} in plan.bans.members (${this.members.join(", ")})`);
  }
  /** The namespace member `m` runs in. */
  ns(m: BanMemberName): string {
    return this.site.ns[m] ?? fail(`ban grid: no namespace given for member ${m} (GridSite.ns has ${Object.keys(this.site.ns).join(", ")})`);
  }
  private sources(m: BanMemberName): Partial<Record<BanSource, string>> {
    const files = this.site.sources[m] ?? {};
    const missing = this.member(m).sources.filter((s) => !files[s]);
    if (missing.length) fail(`ban grid: no file given for ${m}'s source(s) ${missing.join(", ")} (GridSite.sources)`);
    return files;
  }
  paths(m: BanMemberName): BanPaths {
    return banPaths(`${this.site.root}/${m}`);
  }
  logFile(name: string): string {
    return `${this.site.root}/log/${name}.log`;
  }

  private args(m: BanMemberName): MemberSetupArgs {
    const member = this.member(m);
    const s = this.secrets;
    return {
      member: m,
      paths: this.paths(m),
      acquisition: { kind: "files", files: this.sources(m) },
      caPem: this.site.caPem,
      secrets: { ...(m === "services" ? {} : { machinePassword: s.machines[member.machine] }), ...(member.bouncer ? { bouncerKey: s.bouncers[member.bouncer] } : {}) },
      // As in production, the gateway's config holds no token, only the key tenants' tokens are signed with.
      ...(m === "services" ? { lapi: { certPem: this.site.lapiCert.certPem, keyPem: this.site.lapiCert.keyPem, report: { password: s.machines[this.bans.report?.machine ?? ""] ?? "", tokens: {}, tokenKey: s.tokenKey } } } : {}),
      requireGlobal: false, // the lab's "internet" is documentation and shared-address blocks
    };
  }

  /** Runs a rendered script with bash in `ns` (kept 0700 in the run directory: it carries secrets). */
  private async script(ns: string, name: string, text: string): Promise<string> {
    const file = `${this.site.root}/scripts/${name}.sh`;
    writeFileSync(file, text, { mode: 0o700 });
    return must(["env", "LR_SERVICES=none", "bash", file], { ns, timeoutMs: 60_000 });
  }

  /**
   * Every member's rendered setup script (files, hub links, the nft table; the services VM's own machine): the first
   * alone, as it may create the daemons' user (the members share this machine's users), then the others at once.
   */
  async setup(): Promise<void> {
    mkdirSync(`${this.site.root}/log`, { recursive: true });
    mkdirSync(`${this.site.root}/scripts`, { recursive: true, mode: 0o700 });
    const one = async (m: BanMemberName) => {
      for (const f of Object.values(this.sources(m))) writeFileSync(f, "", { flag: "a" });
      this.units.set(m, memberFiles(this.bans, this.args(m)).units);
      const out = await this.script(this.ns(m), `setup-${m}`, setupScript(this.bans, this.args(m)));
      if (out.includes(`user ${BAN_USER} created`)) this.userMade();
    };
    const [first, ...rest] = this.members;
    await one(first);
    await Promise.all(rest.map(one));
  }

  /** Remembers that this run made the user; a process exit that skips removeUser still deletes it. */
  private userMade(): void {
    this.madeUser = true;
    process.once("exit", () => {
      if (this.madeUser) for (let i = 0; i < 20 && spawnSync("userdel", [BAN_USER]).status === 8; i++) spawnSync("sleep", ["0.1"]); // 8: still in use
    });
  }

  /** Deletes the daemons' user if this run made it (after its daemons are stopped: userdel refuses a busy user). */
  async removeUser(): Promise<void> {
    if (!this.madeUser) return;
    await until(`userdel ${BAN_USER} (its processes gone)`, async () => (await run(["userdel", BAN_USER])).code !== 8, 10_000, 100);
    this.madeUser = false;
  }

  private unit(m: BanMemberName, suffix: string): string {
    const u = this.units.get(m)?.find((f) => f.path.endsWith(suffix)) ?? fail(`ban grid: no unit ${suffix} rendered for ${m}`);
    return u.content;
  }

  /**
   * What systemd does for a unit: each ExecStartPre to completion, then ExecStart as a daemon, both as the unit's
   * user with its capabilities. `unprivileged`: the unit must name a user other than root.
   */
  private async startUnit(name: string, m: BanMemberName, unit: string, opts: { subst?: (s: string) => string; unprivileged?: boolean } = {}): Promise<Proc> {
    const ns = this.ns(m);
    const subst = opts.subst ?? ((s: string) => s);
    const id = unitIdentity(unit);
    if (opts.unprivileged && (!id || id.user === "root")) fail(`ban grid: ${name}'s unit runs it as root (no User=, or User=root): render/bans/enforce.ts systemdUnits`);
    const as = id ? await setprivArgv(id) : [];
    for (const pre of unitCommands(unit, "ExecStartPre")) await must([...as, ...subst(pre).split(" ")], { ns, timeoutMs: 120_000 });
    const start = subst(unitCommands(unit, "ExecStart")[0]).split(" ");
    const p = await this.site.procs.start(`ban-${name}`, ns, [...as, ...start], this.logFile(name));
    this.daemons.set(name, p);
    if (id) this.privileges.set(name, await this.checkPrivileges(name, p, id, start[0]));
    return p;
  }

  /** Once `p` runs `binary` (ip netns exec and setpriv exec'd into it): its uids are the unit's user's, its capabilities the unit's. */
  private async checkPrivileges(name: string, p: Proc, id: UnitIdentity, binary: string): Promise<ProcPrivileges> {
    await until(`${name} running ${binary}`, () => argv0(p.pid) === binary || !!p.exited, 5000, 10);
    if (p.exited) fail(`ban grid: ${name} exited at once (${p.exited}); log ${p.log}`);
    const got = await procPrivileges(p.pid);
    const uid = Number((await must(["id", "-u", id.user])).trim());
    const want = { uids: [uid, uid, uid, uid], effective: [...id.ambient].sort(), bounding: id.bounding ? [...id.bounding].sort() : got.bounding };
    if (uid === 0 || JSON.stringify(got) !== JSON.stringify(want)) fail(`ban grid: ${name} (pid ${p.pid}) runs with ${JSON.stringify(got)}, its unit says ${JSON.stringify(want)} (user ${id.user})`);
    return got;
  }

  /** The services VM's crowdsec (LAPI and its agent); seconds until /health answers. */
  async startLapi(): Promise<number> {
    await this.startUnit("lapi", "services", this.unit("services", "crowdsec.service.d/librerouter.conf"), { unprivileged: true });
    return until("LAPI health", () => this.lapiUp(), 30_000);
  }

  /** The program's enrolment script (render/bans/setup.ts enrolScript) on the services VM: its output. */
  async enrol(): Promise<string> {
    return this.script(this.ns("services"), "enrol", enrolScript(this.bans, this.paths("services"), this.secrets, this.site.plan.stack));
  }

  /** Agents, bouncers (each after its ExecStartPre: the LAPI answers) and the gateway; seconds until all agents read and all bouncers pulled. */
  async startMembers(): Promise<number> {
    const t0 = Date.now();
    const agents = gridAgents(this.bans);
    const enforcers = this.enforcers;
    await Promise.all(agents.map((m) => this.startUnit(`agent-${m}`, m, this.unit(m, "crowdsec.service.d/librerouter.conf"), { unprivileged: true })));
    await Promise.all(enforcers.map((m) => this.startBouncer(m)));
    if (this.bans.report) {
      const svc = this.paths("services");
      const unit = this.unit("services", "lr-ban-report.service");
      // LoadCredential=report.json:<config>: systemd hands the service a copy in its credentials directory.
      const creds = `${this.site.root}/services/credentials`;
      mkdirSync(creds, { recursive: true, mode: 0o700 });
      copyFileSync(svc.reportConfig, `${creds}/report.json`);
      await this.startUnit("gateway", "services", unit, { subst: (s) => s.replace("${CREDENTIALS_DIRECTORY}", creds) });
      await until("gateway listening", async () => (await run(["ss", "-Hltn", `sport = :${this.bans.report!.listen.port}`], { ns: this.ns("services") })).stdout.includes(":"));
    }
    const reading = (m: string) => readFileSync(this.logFile(`agent-${m}`), "utf8").includes("Starting processing data");
    const pulled = async () => (JSON.parse(await this.cscli("bouncers", "list", "-o", "json")) as { last_pull: string }[]).filter((b) => !b.last_pull.startsWith("0001")).length === enforcers.length;
    await until(`agents reading (${agents.join(", ")}), bouncers pulling (${enforcers.join(", ")})`, async () => agents.every(reading) && (await pulled()), 30_000, 200);
    return (Date.now() - t0) / 1000;
  }

  private startBouncer(m: Enforcer): Promise<Proc> {
    return this.startUnit(`bouncer-${m}`, m, this.unit(m, "crowdsec-firewall-bouncer.service.d/librerouter.conf"), { unprivileged: true });
  }

  /** setup → LAPI → enrolment → members. Seconds per phase. */
  async up(): Promise<{ setup: number; lapi: number; enrol: number; members: number }> {
    let t = Date.now();
    const lap = () => {
      const s = (Date.now() - t) / 1000;
      t = Date.now();
      return s;
    };
    await this.setup();
    const setup = lap();
    await this.startLapi();
    const lapi = lap();
    await this.enrol();
    const enrol = lap();
    await this.startMembers();
    return { setup, lapi, enrol, members: lap() };
  }

  /** cscli on the services VM as ops run it (the stack output's commands: as the LAPI's user). */
  async cscli(...args: string[]): Promise<string> {
    return must([...cscliArgv(this.paths("services")), ...args], { ns: this.ns("services"), timeoutMs: 30_000 });
  }

  async lapiUp(): Promise<boolean> {
    const r = await run(["curl", "-fsS", "--max-time", "2", "--cacert", this.paths("services").caCert, `${this.bans.lapi.url}health`], { ns: this.ns("services"), timeoutMs: 5000 });
    return r.stdout.includes('"up"');
  }

  /** A crash of the decision store (SIGKILL), and its restart as systemd's Restart=always does. */
  async killLapi(): Promise<void> {
    const p = this.daemons.get("lapi");
    if (p) await this.site.procs.kill(p);
    this.daemons.delete("lapi");
  }

  /** What lr-ban-resync does: the bouncer restarted while the LAPI is up (SIGTERM keeps its set; the start stream refills it). */
  async restartBouncer(m: Enforcer): Promise<void> {
    const p = this.daemons.get(`bouncer-${m}`);
    if (p) await this.site.procs.stop(p, 5000);
    await this.startBouncer(m);
  }

  /** Every address in each enforcement point's ban set. */
  async sets(): Promise<Map<Enforcer, Set<string>>> {
    const enforcers = this.enforcers;
    const lists = await Promise.all(enforcers.map((m) => must(["nft", "list", "set", this.member(m).enforce!, "lrban", "ban4"], { ns: this.ns(m) })));
    return new Map(enforcers.map((m, i) => [m, new Set(lists[i].replace(/[{},]/g, " ").split(/\s+/).filter((w) => /^\d+\.\d+\.\d+\.\d+$/.test(w)))]));
  }

  /** Which enforcement points hold `ip` in their ban set. */
  async bannedAt(ip: string): Promise<Enforcer[]> {
    return [...(await this.sets())].filter(([, s]) => s.has(ip)).map(([m]) => m);
  }

  rssMb(name: string): number {
    return rssMb(this.daemons.get(name)?.pid);
  }
}

function fail(msg: string): never {
  throw new Error(msg);
}

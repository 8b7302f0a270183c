/**
 * One lab run: the plan, its namespaces, processes, PKI and files, brought up step by step with progress
 * lines, and torn down completely (also after a failed step or Ctrl-C). Checks (./checks.ts) act on it.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { InstanceId, Plan, ServerName, TenantPlan } from "../plan/types";
import type { DhcpLayout } from "../render/dhcp";
import type { HostLayout, ServerLayout } from "../render/layout";
import { renderLauncher } from "../render/launcher";
import { must } from "./exec";
import { labHostLayout, labQemuServerDir, labServerLayout } from "./layout";
import { Netns, runPrefix } from "./netns";
import { createPki, Issued, LabPki } from "./pki";
import { Proc, Procs } from "./procs";
import type { GridRun } from "./ban-grid";
import { startReaper } from "./reaper";
import { DEFAULT_LAB_MODE, LAB_CLUSTER_DEFAULT_TENANTS, type LabHosts, type LabMode, labPlan, labStack, labStackFile } from "./stack";
import { labDhcpLayout, type Lease } from "./services";
import { buildTopology, Namespaces } from "./topology";

export interface LabOptions {
  /** Number of tenants (default 2). */
  readonly tenants?: number;
  /** The stack's tenantNetwork.mode (default fixed: the LibreRouter image as shipped). */
  readonly mode?: LabMode;
  /** Parent of the run directory (default `<repo>/.lab`). */
  readonly baseDir?: string;
  /** Progress sink (default: console.log). */
  readonly log?: (line: string) => void;
  /** Where the console-browser check writes its screenshots (default `<run dir>/screenshots`, removed with the run). */
  readonly screenshotsDir?: string;
  /** Proxmox nodes (default 1; 2: the cluster lab, ./hosts.ts). */
  readonly hosts?: LabHosts;
  /**
   * Bring the monitoring up (default true; ./check-monitoring.ts). Off only where no monitoring check runs
   * (test/e2e/lab.test.ts's second mode, the two-host e2e subset), to keep CI's time.
   */
  readonly monitoring?: boolean;
  /** Bring the ban grid up (default true; ./bans.ts). Off only where no ban check runs, as `monitoring`. */
  readonly banGrid?: boolean;
}

/** Seconds with two decimals, for progress lines and the result table. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

export class Lab {
  readonly netns = new Netns(runPrefix());
  readonly procs = new Procs();
  readonly dir: string;
  /** The VPN servers' layouts (the one-host lab's until prepare() plans the stack, then the plan's). */
  layouts: Record<ServerName, ServerLayout>;
  readonly hostLayout: HostLayout;
  /** The services VM's DHCP files (./services.ts). */
  readonly dhcpLayout: DhcpLayout;
  readonly mode: LabMode;
  readonly monitoring: boolean;
  readonly banGrid: boolean;
  readonly log: (line: string) => void;
  /** Step name → milliseconds, in order. */
  readonly timings: [string, number][] = [];
  plan!: Plan;
  ns!: Namespaces;
  pki!: LabPki;
  /** The hardware ID the rendered launcher computes on this machine (every tenant is pinned to it). */
  hardwareId = "";
  readonly clientCerts = new Map<string, Issued>();
  readonly vncPasswords = new Map<string, string>();
  readonly servers = new Map<InstanceId, Proc>();
  readonly clients = new Map<string, Proc>();
  readonly qemus = new Map<string, Proc>();
  /** The host's qemu-server run directory (`<vmid>.vnc`, `.serial0`, `.qmp`). */
  readonly qemuDir: string;
  /** The host's serial bridge and each VPN server's console gateway (./consoles.ts), once up. */
  serialBridge?: Proc;
  /** Every node's serial bridge by node name (the API node's is `serialBridge`). */
  readonly serialBridges = new Map<string, Proc>();
  /** Proxmox nodes in this lab (LabOptions.hosts). */
  readonly hosts: LabHosts;
  readonly gateways = new Map<ServerName, Proc>();
  /** Where the console screenshots go (LabOptions.screenshotsDir). */
  readonly screenshotsDir: string;
  /** fixed mode: the running DHCP server, and what each tenant's router got from it at bring-up (by key). */
  dhcpServer?: Proc;
  leases = new Map<string, Lease>();
  /** The ban grid (./bans.ts), once up. */
  grid?: GridRun;
  /** In-process work to stop at teardown, before the processes (the journal adapters). */
  readonly cleanups: (() => void)[] = [];
  private down = false;
  private tearing?: Promise<void>;
  private stopReaper?: () => void;
  /** Steps still running (a Ctrl-C teardown waits for them so nothing is created behind its back). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(readonly opts: LabOptions = {}) {
    this.dir = resolve(opts.baseDir ?? join(__dirname, "..", ".lab"), this.netns.prefix);
    this.layouts = { vpn1: labServerLayout(this.dir, "vpn1"), vpn2: labServerLayout(this.dir, "vpn2") };
    this.hostLayout = labHostLayout(this.dir);
    this.qemuDir = labQemuServerDir(this.dir);
    this.screenshotsDir = resolve(opts.screenshotsDir ?? join(this.dir, "screenshots"));
    this.dhcpLayout = labDhcpLayout(this.dir);
    this.mode = opts.mode ?? DEFAULT_LAB_MODE;
    this.log = opts.log ?? ((l) => console.log(l));
    this.hosts = opts.hosts ?? 1;
    this.monitoring = opts.monitoring ?? true;
    this.banGrid = opts.banGrid ?? true;
  }

  /** Node `node`'s host layout: the API node's is `hostLayout`, another's under `<run dir>/nodes/<node>`. */
  hostLayoutOf(node: string): HostLayout {
    return node === this.plan.host.node ? this.hostLayout : labHostLayout(join(this.dir, "nodes", node));
  }

  /** Node `node`'s qemu-server run directory (the API node's is `qemuDir`). */
  qemuDirOf(node: string): string {
    return node === this.plan.host.node ? this.qemuDir : labQemuServerDir(join(this.dir, "nodes", node));
  }

  /** Runs `fn` as a named step: prints `[lab] <name> 0.03s` and records the time. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.down) throw new Error(`lab is shutting down: not starting step ${name}`);
    const t0 = Date.now();
    const p = fn();
    this.inFlight.add(p);
    let out: T;
    try {
      out = await p;
    } finally {
      this.inFlight.delete(p);
    }
    const ms = Date.now() - t0;
    this.timings.push([name, ms]);
    this.log(`[lab] ${name} ${secs(ms)}`);
    return out;
  }

  tenant(key: string): TenantPlan {
    const t = this.plan.tenants.find((x) => x.key === key);
    if (!t) throw new Error(`no tenant ${key} in the lab plan`);
    return t;
  }

  /** A file path inside the run directory (its parent directory is created). */
  path(...parts: string[]): string {
    const p = join(this.dir, ...parts);
    mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
    return p;
  }

  /** Where prepare() writes the lab's `Pulumi.lab.yaml` (for `npm run status -- --dir`). */
  get stackDir(): string {
    return join(this.dir, "stack");
  }

  /** A directory inside the run directory (created). */
  dirPath(...parts: string[]): string {
    const p = join(this.dir, ...parts);
    mkdirSync(p, { recursive: true, mode: 0o755 });
    return p;
  }

  /** Plans, builds the topology and issues the PKI. Servers, consoles, DHCP and clients are started by the caller (./bringup.ts). */
  async prepare(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    this.stopReaper = startReaper(this.netns.prefix, this.dir);
    const tenants = this.opts.tenants ?? (this.hosts > 1 ? LAB_CLUSTER_DEFAULT_TENANTS : 2);
    this.hardwareId = await this.step("launcher hardware id", async () => {
      // The ID does not depend on the plan: render the launcher once with a placeholder pin and ask it.
      const draft = labPlan(tenants, "0".repeat(64));
      const file = this.path("launcher-probe", "lr-connect");
      writeFileSync(file, renderLauncher(draft.stack, draft.tenants[0]), { mode: 0o755 });
      const id = (await must(["sh", file, "--print-id"])).trim();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`launcher printed ${JSON.stringify(id)}, not a 64-hex ID`);
      return id;
    });
    this.plan = labPlan(tenants, this.hardwareId, this.mode, this.hosts);
    writeFileSync(this.path("stack", "Pulumi.lab.yaml"), labStackFile(labStack(tenants, this.hardwareId, this.mode, this.hosts)));
    this.layouts = { vpn1: labServerLayout(this.dir, "vpn1", this.plan), vpn2: labServerLayout(this.dir, "vpn2", this.plan) };
    const cluster = this.hosts > 1 ? `, ${this.hosts} nodes over VXLAN` : "";
    const count = 8 + 2 * this.plan.tenants.length + (this.hosts > 1 ? this.hosts : 0);
    this.ns = await this.step(`topology (${this.mode} mode, ${this.plan.tenants.length} tenants${cluster}, ${count} namespaces)`, () =>
      buildTopology(this.plan, this.netns, this.procs, this.layouts, this.dirPath("logs")),
    );
    this.pki = await this.step("pki (CA, 2 servers, clients)", async () => {
      const pki = await createPki(this.plan);
      for (const t of this.plan.tenants) this.clientCerts.set(t.key, await pki.issueClient(t.key));
      return pki;
    });
  }

  /** Log file path for a process. */
  logFile(name: string): string {
    return this.path("logs", `${name}.log`);
  }

  /** Stops every process, deletes every namespace and (unless kept) the run directory. Safe to call twice. */
  teardown(keepFiles = false): Promise<void> {
    this.tearing ??= this.doTeardown(keepFiles);
    return this.tearing;
  }

  private async doTeardown(keepFiles: boolean): Promise<void> {
    this.down = true;
    this.netns.closed = true;
    this.procs.closed = true;
    await Promise.allSettled([...this.inFlight]);
    for (const c of this.cleanups.splice(0)) c();
    await this.procs.stopAll(1000);
    // The ban grid's daemon user, if this run made it (users are machine-wide; its daemons are stopped now).
    await this.grid?.removeUser().catch((e: Error) => this.log(`[lab] cleanup: ${e.message}`));
    const problems = await this.netns.cleanup();
    if (!keepFiles) rmSync(this.dir, { recursive: true, force: true });
    this.stopReaper?.();
    for (const p of problems) this.log(`[lab] cleanup: ${p}`);
  }

  /** Synchronous last resort for process exit: SIGKILL our processes, delete our namespaces and files. */
  teardownSync(): void {
    if (this.tearing) return;
    this.down = true;
    for (const c of this.cleanups.splice(0)) c();
    this.procs.killAllSync();
    for (const ns of [...this.netns.created].reverse()) {
      try {
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
      } catch {
        /* already gone */
      }
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.stopReaper?.();
  }
}

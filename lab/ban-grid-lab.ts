/**
 * The ban grid alone, without OpenVPN or tenants' VMs: namespaces `<prefix>-wan` (the "internet": one bridge with the
 * pool's gateway, the members' public interfaces, the tenants' and the test's own addresses), `<prefix>-mgmt` (the
 * management bridge) and one per member, the grid from the rendered files (./ban-grid.ts). Agents tail
 * syslog-format files the harness writes OpenVPN 2.6 refusal lines into, as the journal shows them (./journal.ts).
 * The harness of test/e2e/ban-grid.test.ts (what the lab's ban checks do not cover) and of `npm run bench:bans`
 * (./bench-bans.ts). Run under `flock /tmp/lab.lock`.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { BansInput } from "../config/bans-schema";
import type { BanMemberName } from "../plan/bans";
import { buildPlan } from "../plan/build";
import type { Plan } from "../plan/types";
import { GridRun, type GridSite, gridMembers, gridSecrets } from "./ban-grid";
import { must, run } from "./exec";
import { journalLine } from "./journal";
import { Netns } from "./netns";
import { createPki } from "./pki";
import { Procs } from "./procs";

export class BanGridLab {
  readonly plan: Plan;
  readonly root: string;
  readonly netns: Netns;
  readonly procs = new Procs();
  readonly ns: Record<BanMemberName, string>;
  readonly wan: string;
  /** The grid's secrets (fresh per run), known before it runs. */
  readonly secrets: ReturnType<typeof gridSecrets>;
  private readonly mgmt: string;
  private run?: GridRun;

  /** `wanAddresses`: source addresses the test uses on the wan side (attackers, the allowlisted one). */
  constructor(
    prefix: string,
    bans: BansInput,
    private readonly wanAddresses: readonly string[],
  ) {
    this.plan = buildPlan(
      {
        profile: "minimal",
        proxmox: { endpoint: "https://pve.example.net:8006/", node: "pve1" },
        network: { publicPools: [{ cidr: "203.0.113.0/24", gateway: "203.0.113.1" }] },
        tenants: { alice: { slot: 1 }, bob: { slot: 2 } },
        bans,
      },
      prefix,
    );
    this.root = `/tmp/${prefix}-${process.pid}`;
    this.netns = new Netns(prefix);
    this.ns = { services: this.netns.name("svc"), vpn1: this.netns.name("vpn1"), vpn2: this.netns.name("vpn2"), host: this.netns.name("host") };
    this.wan = this.netns.name("wan");
    this.mgmt = this.netns.name("mgmt");
    this.secrets = gridSecrets(this.plan);
  }

  /** The running grid (after up()). */
  get grid(): GridRun {
    if (!this.run) throw new Error("BanGridLab: not up");
    return this.run;
  }

  get bans() {
    return this.plan.bans;
  }

  /** The syslog-format file member `m`'s agent tails (every source of it). */
  log(m: BanMemberName): string {
    return `${this.root}/${m}-source.log`;
  }

  private sources(m: BanMemberName) {
    return Object.fromEntries(this.plan.bans.members.find((x) => x.name === m)!.sources.map((s) => [s, this.log(m)]));
  }

  /** Namespaces, the service CA and the LAPI's certificate, every member's rendered setup, the LAPI; seconds until it answers. */
  async up(): Promise<number> {
    rmSync(this.root, { recursive: true, force: true });
    mkdirSync(this.root, { recursive: true });
    const members = gridMembers(this.bans);
    for (const m of members) writeFileSync(this.log(m), "");
    await this.topology();
    const pki = await createPki(this.plan);
    const lapiCert = await pki.issueService(`lapi.${this.plan.stack}.librerouter`, [this.bans.lapi.ip]);
    const sources: GridSite["sources"] = Object.fromEntries(members.map((m) => [m, this.sources(m)]));
    this.run = new GridRun({ plan: this.plan, ns: this.ns, root: `${this.root}/grid`, procs: this.procs, caPem: pki.caPem, lapiCert, sources }, this.secrets);
    await this.grid.setup();
    return this.grid.startLapi();
  }

  /** Stops every daemon, deletes the namespaces, the files and the daemons' user if this run made it. */
  async down(): Promise<void> {
    await this.procs.stopAll(1000);
    await this.run?.removeUser();
    await this.netns.cleanup();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** `n` OpenVPN 2.6 refusals (bogus tls-crypt-v2 handshakes) from each address, as the journal shows them, on `member`. */
  attack(ips: string | readonly string[], n: number, member: BanMemberName = "vpn1"): void {
    const now = new Date();
    const lines = (typeof ips === "string" ? [ips] : ips).flatMap((ip) => Array.from({ length: n }, (_, i) => `${journalLine(now, member, "openvpn", 4242, `TLS Error: can not extract tls-crypt-v2 client key from [AF_INET]${ip}:${40000 + i}`)}\n`));
    appendFileSync(this.log(member), lines.join(""));
  }

  /** A tenant's report of `ip` sent from wan address `from` with `token`: the HTTP status. */
  async report(token: string, from: string, ip: string): Promise<string> {
    const r = this.bans.report!;
    const argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", from, "-H", "@-", "--data", `ip=${ip}&reason=test`, `http://${r.listen.ip}:${r.listen.port}/v1/report`];
    return (await run(argv, { ns: this.wan, input: `Authorization: Bearer ${token}\n`, timeoutMs: 15_000 })).stdout;
  }

  /** One ping from wan-side address `src` to `dst` answered. */
  async ping(src: string, dst: string): Promise<boolean> {
    return (await run(["ping", "-n", "-q", "-c", "1", "-W", "1", "-I", src, dst], { ns: this.wan, timeoutMs: 4000 })).code === 0;
  }

  private async topology(): Promise<void> {
    await this.netns.cleanup();
    this.netns.closed = false;
    for (const role of ["wan", "mgmt", "svc", "vpn1", "vpn2", "host"]) await this.netns.add(role);
    const wan = this.wan;
    const sh = (ns: string, lines: string[]) => must(["ip", "-n", ns, "-batch", "-"], { input: `${lines.join("\n")}\n` });
    await sh(wan, ["link add br0 type bridge", "link set br0 up", "addr add 203.0.113.1/24 dev br0", ...[...this.wanAddresses, ...this.plan.tenants.map((t) => t.publicIp)].map((a) => `addr add ${a}/32 dev br0`)]);
    await must(["ip", "netns", "exec", wan, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    await sh(this.mgmt, ["link add brm type bridge", "link set brm up"]);
    for (const m of this.bans.members) {
      const ns = this.ns[m.name];
      if (!m.publicIp || !ns) throw new Error(`ban grid harness: member ${m.name} has no public address or namespace (the harness runs one host)`);
      await must(["ip", "link", "add", `p-${m.name}`, "netns", wan, "type", "veth", "peer", "name", "pub", "netns", ns]);
      await must(["ip", "link", "add", `m-${m.name}`, "netns", this.mgmt, "type", "veth", "peer", "name", "mgmt", "netns", ns]);
      await sh(wan, [`link set p-${m.name} master br0`, `link set p-${m.name} up`]);
      await sh(this.mgmt, [`link set m-${m.name} master brm`, `link set m-${m.name} up`]);
      await sh(ns, ["link set pub up", "link set mgmt up", `addr add ${m.publicIp}/24 dev pub`, `addr add ${m.mgmtIp}/${this.plan.mgmt.prefix} dev mgmt`, "route add default via 203.0.113.1"]);
    }
  }
}

/**
 * Network namespaces, veth pairs, bridges, addresses and sysctls for one lab run. Every namespace name
 * carries the run prefix, so parallel runs (and CI) never collide, and cleanup deletes exactly what this
 * run created. Interfaces are created directly inside their namespaces, so their names (≤ 15 chars)
 * only need to be unique per namespace.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { must, run } from "./exec";

/** A run prefix such as `lrl1a2bx7`: pid in base 36 plus two random characters (a crashed run with the same pid cannot clash). */
export function runPrefix(): string {
  const rnd = (randomBytes(2).readUInt16BE(0) % 1296).toString(36).padStart(2, "0");
  return `lrl${process.pid.toString(36)}${rnd}`;
}

export class Netns {
  /** Namespaces created (or being created) by this run, in creation order. */
  readonly created: string[] = [];
  /** Set by cleanup: no namespace may be created after it started. */
  closed = false;

  private open(): void {
    if (this.closed) throw new Error("lab is shutting down");
  }

  constructor(readonly prefix: string) {}

  /** Full namespace name for a short role name (`vpn1` → `lrl1a2bx7-vpn1`). */
  name(role: string): string {
    return `${this.prefix}-${role}`;
  }

  /**
   * Creates namespace `role` with `lo` up and a private `/etc/netns/<ns>/iproute2` (a copy of the host's),
   * so named routing tables the tools write (rt_tables) stay inside this namespace instead of the host's.
   * ip_forward stays 0, as on a fresh VM: the rendered setup script must turn it on itself.
   */
  async add(role: string): Promise<string> {
    this.open();
    const ns = this.name(role);
    // Recorded before it exists, so a cleanup racing with this call still deletes it.
    this.created.push(ns);
    await must(["ip", "netns", "add", ns]);
    const etc = `/etc/netns/${ns}/iproute2`;
    mkdirSync(etc, { recursive: true });
    if (existsSync("/etc/iproute2")) cpSync("/etc/iproute2", etc, { recursive: true });
    mkdirSync(`${etc}/rt_tables.d`, { recursive: true });
    await must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  /** Creates several namespaces with one `ip -batch` (same setup as `add` for each). */
  async addMany(roles: readonly string[]): Promise<string[]> {
    this.open();
    const names = roles.map((r) => this.name(r));
    this.created.push(...names);
    const r = await run(["ip", "-batch", "-"], { input: names.map((n) => `netns add ${n}\n`).join("") });
    if (r.code !== 0) throw new Error(`ip netns add failed: ${r.stderr.trim()}`);
    for (const ns of names) {
      const etc = `/etc/netns/${ns}/iproute2`;
      mkdirSync(etc, { recursive: true });
      if (existsSync("/etc/iproute2")) cpSync("/etc/iproute2", etc, { recursive: true });
      mkdirSync(`${etc}/rt_tables.d`, { recursive: true });
    }
    return names;
  }

  /** Runs `ip -batch` lines in namespace `ns` (or the root namespace for veth creation across namespaces). */
  async batch(ns: string | undefined, lines: readonly string[]): Promise<void> {
    if (!lines.length) return;
    await must(ns ? ["ip", "-n", ns, "-batch", "-"] : ["ip", "-batch", "-"], { input: lines.join("\n") + "\n" });
  }

  /** A veth pair with one end in each namespace, both up. */
  async veth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    await must(["ip", "link", "add", "name", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB]);
    await must(["ip", "-n", nsA, "link", "set", ifA, "up"]);
    await must(["ip", "-n", nsB, "link", "set", ifB, "up"]);
  }

  /** A bridge inside `ns`, up, with the given member interfaces. */
  async bridge(ns: string, name: string, members: readonly string[]): Promise<void> {
    await must(["ip", "-n", ns, "link", "add", name, "type", "bridge"]);
    await must(["ip", "-n", ns, "link", "set", name, "up"]);
    for (const m of members) await must(["ip", "-n", ns, "link", "set", m, "master", name]);
  }

  async addr(ns: string, dev: string, cidr: string): Promise<void> {
    await must(["ip", "-n", ns, "addr", "add", cidr, "dev", dev]);
  }

  async route(ns: string, ...spec: string[]): Promise<void> {
    await must(["ip", "-n", ns, "route", "add", ...spec]);
  }

  /** Sets a sysctl inside the namespace (`net.ipv4.ip_forward`, …). */
  async sysctl(ns: string, key: string, value: string | number): Promise<void> {
    await must(["ip", "netns", "exec", ns, "sysctl", "-qw", `${key}=${value}`]);
  }

  /** Kills what still runs in them, deletes every namespace of this run (their veths and bridges go with them) and their /etc/netns dirs. */
  async cleanup(): Promise<string[]> {
    this.closed = true;
    const problems: string[] = [];
    for (const ns of [...this.created].reverse()) {
      // Whatever still runs in the namespace is this run's (a daemon that forked past its pid file, say).
      const pids = (await run(["ip", "netns", "pids", ns])).stdout.split("\n").filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          /* gone meanwhile */
        }
      }
      const r = await run(["ip", "netns", "del", ns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr)) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    this.created.length = 0;
    // Any /etc/netns entry of this run left behind (one made while this cleanup ran: CI saw one once).
    for (const e of existsSync("/etc/netns") ? readdirSync("/etc/netns") : []) if (e.startsWith(`${this.prefix}-`)) rmSync(`/etc/netns/${e}`, { recursive: true, force: true });
    return problems;
  }
}

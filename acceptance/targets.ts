/**
 * What the acceptance run checks on the real host, from `npm run plan -- --format json` (cli/plan-table.ts
 * `planJson`) and `pulumi stack output --show-secrets --json tenantSecrets` (index.ts): the VPN servers'
 * management addresses, each instance's remote and console gateway, each tenant's router and VMID, and a
 * client bundle narrowed to one instance. Pure: no `@pulumi/*`, no I/O.
 */
import { isIpv4 } from "../lib/ipv4";

export interface ServerTarget {
  readonly name: string;
  readonly mgmtIp: string;
  /** What the bundle's `remote` lines name (the public IP when vpn.hostnames is unset). */
  readonly hostname: string;
}

export interface InstanceTarget {
  readonly id: string;
  readonly server: string;
  readonly proto: "udp" | "tcp";
  readonly port: number;
  /** The server's tunnel address: the tenant's console is `<gateway>:5900`. */
  readonly gateway: string;
}

export interface TenantTarget {
  readonly key: string;
  readonly vmid: number;
  readonly routerIp: string;
}

export interface Targets {
  readonly servers: readonly ServerTarget[];
  readonly instances: readonly InstanceTarget[];
  readonly tenants: readonly TenantTarget[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

function field<T>(o: Obj, k: string, where: string, ok: (v: unknown) => v is T, want: string): T {
  const v = o[k];
  if (!ok(v)) throw new Error(`plan JSON: ${where}.${k} must be ${want}, got ${JSON.stringify(v)}`);
  return v;
}
const ip = (v: unknown): v is string => typeof v === "string" && isIpv4(v);
const str = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const int = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const proto = (v: unknown): v is "udp" | "tcp" => v === "udp" || v === "tcp";
/** Names that reach a shell word or a file name: no spaces, quotes or slashes. */
const word = (v: unknown): v is string => typeof v === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v);

function list(o: Obj, k: string): Obj[] {
  const v = o[k];
  if (!Array.isArray(v) || !v.every(isObj)) throw new Error(`plan JSON: "${k}" must be an array of objects (is this \`npm run plan -- --format json\` output?)`);
  return v;
}

/** The targets of a stack, from its plan JSON; throws naming the first field that is missing or malformed. */
export function targetsFromPlan(json: unknown): Targets {
  if (!isObj(json)) throw new Error("plan JSON: not a JSON object (is this `npm run plan -- --format json` output?)");
  const servers = list(json, "servers").map((s, i) => ({
    name: field(s, "name", `servers[${i}]`, word, "a server name"),
    mgmtIp: field(s, "mgmtIp", `servers[${i}]`, ip, "an IPv4 address"),
    hostname: field(s, "hostname", `servers[${i}]`, str, "a host name or address"),
  }));
  const instances = list(json, "instances").map((x, i) => ({
    id: field(x, "id", `instances[${i}]`, word, "an instance id"),
    server: field(x, "server", `instances[${i}]`, word, "a server name"),
    proto: field(x, "proto", `instances[${i}]`, proto, '"udp" or "tcp"'),
    port: field(x, "port", `instances[${i}]`, int, "a port number"),
    gateway: field(x, "gateway", `instances[${i}]`, ip, "an IPv4 address"),
  }));
  const tenants = list(json, "tenants").map((t, i) => ({
    key: field(t, "key", `tenants[${i}]`, word, "a tenant key"),
    vmid: field(t, "vmid", `tenants[${i}]`, int, "a VMID"),
    routerIp: field(t, "routerIp", `tenants[${i}]`, ip, "an IPv4 address"),
  }));
  if (servers.length !== 2 || instances.length !== 4) throw new Error(`plan JSON: expected 2 servers and 4 instances, got ${servers.length} and ${instances.length}`);
  for (const x of instances) {
    if (!servers.some((s) => s.name === x.server)) throw new Error(`plan JSON: instance ${x.id} names server ${x.server}, which the plan does not have`);
  }
  return { servers, instances, tenants };
}

/**
 * One line per target for the shell (`while read -r kind a b c d e`): `server <name> <mgmtIp>`,
 * `instance <id> <server> <proto> <port> <gateway>`, `tenant <key> <vmid> <routerIp>`. UDP instances come first,
 * so the client checks run UDP, then TCP/443.
 */
export function targetLines(t: Targets): string[] {
  const order = [...t.instances].sort((a, b) => (a.proto === b.proto ? 0 : a.proto === "udp" ? -1 : 1));
  return [
    ...t.servers.map((s) => `server ${s.name} ${s.mgmtIp}`),
    ...order.map((x) => `instance ${x.id} ${x.server} ${x.proto} ${x.port} ${x.gateway}`),
    ...t.tenants.map((x) => `tenant ${x.key} ${x.vmid} ${x.routerIp}`),
  ];
}

export interface TenantSecret {
  readonly vncPassword: string;
  readonly clientBundle: string;
  readonly launcher: string;
}

/** One tenant's entry of `pulumi stack output --show-secrets --json tenantSecrets`. */
export function tenantSecret(json: unknown, key: string): TenantSecret {
  if (!isObj(json)) throw new Error("tenantSecrets: not a JSON object (run `pulumi stack output --show-secrets --json tenantSecrets`)");
  const e = json[key];
  if (!isObj(e)) throw new Error(`tenantSecrets has no entry for tenant ${key} (it has ${Object.keys(json).sort().join(", ") || "none"})`);
  for (const k of ["vncPassword", "clientBundle", "launcher"]) {
    if (typeof e[k] !== "string" || e[k] === "") {
      const shown = e[k] === "[secret]" ? " (it shows [secret]: add --show-secrets)" : "";
      throw new Error(`tenantSecrets.${key}.${k} is missing or empty${shown}`);
    }
  }
  if (e.vncPassword === "[secret]") throw new Error(`tenantSecrets.${key}.vncPassword is "[secret]": run pulumi stack output with --show-secrets`);
  return { vncPassword: String(e.vncPassword), clientBundle: String(e.clientBundle), launcher: String(e.launcher) };
}

const PROTOS: Readonly<Record<"udp" | "tcp", readonly string[]>> = { udp: ["udp", "udp4"], tcp: ["tcp", "tcp4", "tcp-client", "tcp4-client"] };

/**
 * The bundle with only the `<connection>` block that dials `host port proto`: the client then uses exactly
 * that server instance (the bundle's own order would always start with vpn1/UDP). Throws unless exactly one
 * block matches.
 */
export function selectConnection(bundle: string, host: string, port: number, p: "udp" | "tcp"): string {
  const blocks = [...bundle.matchAll(/<connection>\n([\s\S]*?)<\/connection>\n?/g)];
  const dials = (body: string) =>
    body.split("\n").some((l) => {
      const [kw, h, pt, pr] = l.trim().split(/\s+/);
      return kw === "remote" && h === host && Number(pt) === port && PROTOS[p].includes(pr ?? "udp");
    });
  const hit = blocks.filter((m) => dials(m[1]));
  if (hit.length !== 1) {
    const remotes = blocks.map((m) => /^remote .*$/m.exec(m[1])?.[0] ?? "?").join("; ");
    throw new Error(`client bundle: ${hit.length} <connection> blocks dial ${host} ${port} ${p} (want exactly 1); it has: ${remotes || "no <connection> blocks"}`);
  }
  return blocks.filter((m) => m !== hit[0]).reduce((text, m) => text.replace(m[0], ""), bundle);
}

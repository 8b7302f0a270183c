/**
 * Core and tenant shard stacks (issue 13, `shards.tenantsPerShard`) under mocks: the core registers everything but the
 * tenants and hands its shards what they need; a shard registers only its tenants, reading the core through a
 * StackReference the mock monitor answers with the core run's resolved outputs. A tenant's registrations in its shard
 * are those of one-stack mode (same type, name, parent, inputs with their secrecy, options, provider inputs): what
 * `pulumi state move` carries over, so the move is followed by no change. Counts are the engine's (registrations +
 * the stack + one default provider per package used without an explicit provider).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { readStackFile } from "../../config/load";
import { validateStack } from "../../plan/validate";
import { STACK_RESOURCE_LIMIT, shardOverhead, shardResources, tenantResources } from "../../plan/shards";
import { stackCapacity } from "../../stack/compile";
import { layoutMismatch } from "../../components/core-handoff";
import { stackRole } from "../../components/stack-config";
import { ConfigError } from "../../config/errors";
import { clusterConfig, configError, withChange } from "../config/fixture";
import { CERTS_FILE, certRows, shardCertsFile, stdinWithoutCerts, tenantCertRow } from "./engine/cert-figures";
import { type ProgramRun, type Recorded, isSecret, reveal, runProgram } from "./harness";
import type { ShardChildResult } from "./shards-child";

const TIMEOUT = 300_000;
const ROOT = `${__dirname}/../..`;
type Raw = Record<string, unknown>;
const sharded = (c: ReturnType<typeof clusterConfig>, shard?: string) => withChange(c, (x) => void (x.shards = { tenantsPerShard: 5, ...(shard ? { shard } : {}) }));
const distinct = clusterConfig();
const fixed = withChange(clusterConfig(), (c) => void (c.tenantNetwork = { mode: "fixed" }));

/**
 * The engine's count: every registration, the stack itself, one default provider per package used without one (a
 * StackReference's is the builtin `pulumi` package's, pulumi:providers:pulumi::default).
 */
function engineCount(run: ProgramRun): number {
  const defaults = new Set(run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && r.provider === "").map((r) => r.type.split(":")[0]));
  return run.resources.length + 1 + defaults.size;
}
const ofTenant = (key: string) => (r: Recorded) => r.name === `tenant-${key}` || r.name.startsWith(`tenant-${key}-`);
const isTenantPart = (r: Recorded) => r.name.startsWith("tenant-") && r.name !== "tenants-wan-group";
/** What `pulumi state move` keeps and the next `up` diffs: URN (stack name aside), inputs with their secrecy, options but dependencies, provider. */
function moved(r: Recorded, stack: string) {
  const at = (u: string) => u.replaceAll(`urn:pulumi:${stack}::`, "urn:pulumi:<stack>::");
  const { dependencies, propertyDependencies, ...options } = r.options;
  void dependencies;
  void propertyDependencies;
  // An alias's parent URN names the stack the program runs in, as every URN does.
  const rest = JSON.parse(at(JSON.stringify(options))) as typeof options;
  return { type: r.type, name: r.name, custom: r.custom, urn: at(r.urn), parent: at(r.parent), provider: at(r.provider), inputs: r.inputs, options: rest };
}
const byName = (rs: readonly Recorded[]) => [...rs].sort((a, b) => a.name.localeCompare(b.name));

interface Mode {
  one: ProgramRun;
  core: ProgramRun;
  /** Per shard name, its run. */
  shards: Record<string, ProgramRun>;
}
const modes: Record<"distinct" | "fixed", Mode> = {} as never;

async function runMode(cfg: ReturnType<typeof clusterConfig>): Promise<Mode> {
  const one = await runProgram("test", cfg as Raw);
  const core = await runProgram("test", sharded(cfg) as Raw);
  const shards: Record<string, ProgramRun> = {};
  for (const s of ["s01", "s03"]) shards[s] = await runProgram(`test-${s}`, sharded(cfg, s) as Raw, undefined, { test: core.outputs });
  for (const r of [one, core, ...Object.values(shards)]) if (r.error) throw r.error;
  return { one, core, shards };
}

beforeAll(async () => {
  modes.distinct = await runMode(distinct);
  modes.fixed = await runMode(fixed);
}, TIMEOUT);

describe.each(["distinct", "fixed"] as const)("%s tenant-network mode, 7 tenants, 5 per shard (s01: slots 1–2, s02: 10, s03: 11–14)", (mode) => {
  const cfg = mode === "distinct" ? distinct : fixed;
  const slotsOf = (s: string) => ({ s01: [1, 2], s03: [11, 12, 13, 14] })[s as "s01" | "s03"];

  test("the core registers everything but the tenants, exactly as one stack does (the SDN apply aside: it follows this stack's vnets)", () => {
    const { one, core } = modes[mode];
    expect(core.resources.filter(isTenantPart)).toEqual([]);
    // monitoring-services holds the certificate ends of the stack's own tenants (components/monitoring.ts): the core's
    // has the CA's only (each shard writes its tenants' figures), one stack's every tenant's too; the rest of it is equal.
    const rest = (run: ProgramRun) =>
      byName(run.resources.filter((r) => !isTenantPart(r) && r.name !== "sdn-apply"))
        .map((r) => (r.name === "monitoring-services" ? { ...r, inputs: { ...r.inputs, stdin: stdinWithoutCerts(r) } } : r))
        .map((r) => moved(r, "test"));
    expect(rest(core)).toEqual(rest(one));
    const keys = stackCapacity(cfg, "test").plan.tenants.map((t) => t.key);
    expect(keys).toHaveLength(7);
    expect(certRows(core.resources)).toEqual([expect.stringMatching(/^lr_cert_expiry_timestamp_seconds\{kind="ca",name="ca",tenant=""\} \d+$/)]);
    expect(certRows(one.resources)).toEqual([...keys.map((k) => tenantCertRow(one.resources, k)).sort(), ...certRows(core.resources)]);
    expect(core.outputs.shardHandoff.secret).toBe(true);
    expect(core.outputs.shardLayout).toEqual({ secret: false, value: { tenantsPerShard: 5, configHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  test.each(["s01", "s03"])("shard %s registers its tenants only, each exactly as in one stack (what pulumi state move keeps), with the same Proxmox provider", (s) => {
    const { one, shards } = modes[mode];
    const run = shards[s];
    const plan = stackCapacity(cfg, "test").plan;
    const keys = plan.tenants.filter((t) => slotsOf(s).includes(t.slot)).map((t) => t.key);
    expect(keys).toHaveLength(slotsOf(s).length);
    expect(run.resources.filter((r) => r.type === "librerouter:tenant:Tenant").map((r) => r.name).sort()).toEqual(keys.map((k) => `tenant-${k}`).sort());
    for (const k of keys) {
      const here = byName(run.resources.filter(ofTenant(k))).map((r) => moved(r, `test-${s}`));
      const there = byName(one.resources.filter(ofTenant(k))).map((r) => moved(r, "test"));
      expect(here).toEqual(there);
      expect(here.length).toBeGreaterThan(10);
    }
    // state move reuses the shard's provider when its inputs equal the source's (state_move.go), and a tenant's secret
    // inputs stay secret: the CA key the certificate is signed with among them.
    const provider = (r: ProgramRun) => run.resources.length && r.resources.find((x) => x.name === "proxmox")!.inputs;
    expect(provider(run)).toEqual(provider(one));
    const cert = run.resources.find((r) => r.name === `tenant-${keys[0]}-cert`)!;
    expect(isSecret(cert.inputs.caPrivateKeyPem)).toBe(true);
    expect(run.resources.filter((r) => !isTenantPart(r)).map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        // The shard's tenants' certificate ends, its own textfile on the core's services VM (index.ts, plan/shards.ts shardOverhead).
        "command:remote:Command monitoring-certs",
        "librerouter:sdn:SdnZone sdn",
        "proxmoxve:sdn/applier:Applier sdn-apply",
        "pulumi:providers:proxmoxve proxmox",
        "pulumi:providers:proxmoxve proxmox-preflight",
        "pulumi:pulumi:StackReference organization/librerouter-hosting/test",
      ].sort(),
    );
    // Exactly this shard's tenants' rows (one stack's for them), to the services VM as one stack's monitoring-services
    // reaches it, set up again when that VM is rebuilt (its MAC); the delete removes this shard's file only.
    const certs = run.resources.find((r) => r.name === "monitoring-certs")!;
    expect(certRows(run.resources, "monitoring-certs", shardCertsFile(s))).toEqual(keys.map((k) => tenantCertRow(one.resources, k)).sort());
    expect(certRows(run.resources, "monitoring-certs", shardCertsFile(s))).toEqual(certRows(one.resources).filter((l) => keys.some((k) => l.includes(`tenant="${k}"`))));
    const services = one.resources.find((r) => r.name === "monitoring-services")!;
    expect(reveal(certs.inputs.connection)).toEqual(reveal(services.inputs.connection));
    expect(String(certs.inputs.stdin).split("\n")[0]).toBe(String(services.inputs.stdin).split("\n")[0]);
    expect(String(certs.inputs.stdin).split("\n")[0]).toMatch(/^# target: [0-9A-F:]{17}$/);
    expect(isSecret(certs.inputs.stdin)).toBe(false);
    expect(String(certs.inputs.stdin)).toContain(`rm -f -- '${shardCertsFile(s)}'`);
    expect(String(certs.inputs.stdin)).not.toContain(`'${CERTS_FILE}'`);
  });

  test("each stack's outputs are its role's: the core hands off (secret) and lists no tenant, a shard lists its own tenants only", () => {
    const { one, core, shards } = modes[mode];
    const plan = stackCapacity(cfg, "test").plan;
    const service = ["banGrid", "capacityReport", "tenantNetwork", "vpnServers"];
    expect(Object.keys(one.outputs)).toEqual(["tenantInfo", "tenantSecrets", ...service]);
    expect(Object.keys(core.outputs)).toEqual([...service, "shardHandoff", "shardLayout"]);
    // The handoff holds the CA key: secret as a whole (a StackReference keeps it secret, stackReference.ts secretOutputNames).
    expect(JSON.stringify(core.outputs.shardHandoff.value)).toMatch(/PRIVATE KEY/);
    for (const [k, o] of Object.entries(core.outputs)) if (k !== "shardHandoff") expect([k, JSON.stringify(o.value)]).not.toEqual([k, expect.stringMatching(/PRIVATE KEY/)]);
    const macs = (run: ProgramRun) => Object.keys((run.outputs.tenantNetwork.value as { publicMacs?: object }).publicMacs ?? {});
    expect(macs(core)).toEqual([]);
    for (const [s, run] of Object.entries(shards)) {
      const keys = plan.tenants.filter((t) => slotsOf(s).includes(t.slot)).map((t) => t.key);
      expect(Object.keys(run.outputs)).toEqual(["tenantInfo", "tenantSecrets", ...service]);
      expect(Object.keys(run.outputs.tenantInfo.value as object)).toEqual(keys);
      expect(run.outputs.tenantInfo.secret).toBe(false);
      expect(run.outputs.tenantSecrets.secret).toBe(true);
      expect(Object.keys(run.outputs.tenantSecrets.value as object)).toEqual(keys);
      expect(macs(run)).toEqual(mode === "fixed" ? keys : []);
      // Per tenant, what one stack says about it.
      for (const k of keys) expect((run.outputs.tenantInfo.value as Record<string, unknown>)[k]).toEqual((one.outputs.tenantInfo.value as Record<string, unknown>)[k]);
      for (const k of ["banGrid", "capacityReport", "vpnServers"]) expect(run.outputs[k]).toEqual(one.outputs[k]);
    }
  });

  test("the per-tenant and per-shard counts of plan/shards.ts are the engine's", () => {
    const { one, shards } = modes[mode];
    const valid = validateStack(cfg, "test").config;
    for (const t of stackCapacity(cfg, "test").plan.tenants) expect([t.key, one.resources.filter(ofTenant(t.key)).length]).toEqual([t.key, tenantResources(valid)]);
    for (const [s, run] of Object.entries(shards)) expect([s, engineCount(run)]).toEqual([s, shardOverhead(valid) + slotsOf(s).length * tenantResources(valid)]);
  });
});

test("ha.tenants adds the HA resource and rule to a tenant's count", async () => {
  const cfg = withChange(clusterConfig(), (c) => void (c.ha = { datastore: "ceph-vm", tenants: true }));
  const run = await runProgram("test", cfg as Raw);
  if (run.error) throw run.error;
  const t = stackCapacity(cfg, "test").plan.tenants[0];
  expect(run.resources.filter(ofTenant(t.key)).length).toBe(tenantResources(validateStack(cfg, "test").config));
}, TIMEOUT);

test("a shard refuses a core planned from another config, naming the fix (and registers no tenant)", () => {
  const ours = { tenantsPerShard: 50, configHash: "a".repeat(64) };
  expect(layoutMismatch("cluster-s02", "cluster", ours, { ...ours, tenantsPerShard: 60 })).toBe(
    "shard stack cluster-s02: shards.tenantsPerShard is 50 here but 60 in the core stack cluster; run `npm run shards -- --stack cluster` and `pulumi up` the core stack cluster first, then this stack",
  );
  expect(layoutMismatch("cluster-s02", "cluster", ours, { ...ours, configHash: "b".repeat(64) })).toBe(
    "shard stack cluster-s02: its config differs from the core stack cluster's (config hash aaaaaaaaaaaa here, bbbbbbbbbbbb there); run `npm run shards -- --stack cluster` and `pulumi up` the core stack cluster first, then this stack",
  );
  expect(layoutMismatch("cluster-s02", "cluster", ours, undefined)).toMatch(/^shard stack cluster-s02: the core stack cluster exports no shardLayout/);
  expect(layoutMismatch("cluster-s02", "cluster", ours, ours)).toBeUndefined();
});

test("a shard whose core was planned from another config registers no tenant and stops with the refusal alone (a process of its own)", () => {
  const core = modes.distinct.core.outputs;
  const other = { ...core, shardLayout: { secret: false, value: { ...(core.shardLayout.value as object), tenantsPerShard: 6 } } };
  const cases = [other, { ...core, shardLayout: undefined }].map((refs) => JSON.parse(JSON.stringify({ test: refs })) as unknown);
  const results = cases.map((refs) => {
    const child = spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(__dirname, "shards-child.ts")], { input: JSON.stringify({ stack: "test-s03", raw: sharded(distinct, "s03"), refs }), encoding: "utf8", maxBuffer: 64 << 20 });
    expect(child.stderr.includes("Error:") ? child.stderr : "").toBe("");
    return JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as ShardChildResult;
  });
  expect(results.map((r) => r.errors)).toEqual([
    [{ runError: true, message: "shard stack test-s03: shards.tenantsPerShard is 5 here but 6 in the core stack test; run `npm run shards -- --stack test` and `pulumi up` the core stack test first, then this stack" }],
    [{ runError: true, message: "shard stack test-s03: the core stack test exports no shardLayout (not up yet, or not sharded); run `npm run shards -- --stack test` and `pulumi up` the core stack test first, then this stack" }],
  ]);
  for (const r of results) {
    expect(r.registered.filter((x) => x.name.startsWith("tenant-"))).toEqual([]);
    expect(r.registered.map((x) => x.type)).toContain("pulumi:pulumi:StackReference");
  }
}, TIMEOUT);

test("the shard's config hash is the core's: shards.shard is left out, key order and defaults written out change nothing", () => {
  const core = stackRole(sharded(distinct) as Raw, "test");
  const shard = stackRole(withChange(sharded(distinct, "s03"), (c) => void (c.sdn = { port: 4789, kind: "vxlan" })) as Raw, "test-s03");
  expect(core.kind).toBe("core");
  expect(shard).toEqual({ kind: "shard", shard: "s03", core: "test", layout: core.kind === "core" ? core.layout : undefined });
  const other = stackRole(withChange(sharded(distinct), (c) => void (c.sdn = { kind: "vxlan", vniBase: 200000 })) as Raw, "test");
  expect(other.kind === "core" && core.kind === "core" && other.layout.configHash !== core.layout.configHash).toBe(true);
  expect(stackRole(distinct as Raw, "test")).toEqual({ kind: "one" });
  expect(() => stackRole(sharded(distinct, "s03") as Raw, "test-s04")).toThrow(ConfigError);
  expect(() => stackRole(sharded(distinct, "s03") as Raw, "test-s04")).toThrow(/shards\.shard: got "s03" in stack "test-s04"; shard s03 of core stack <core> is the stack <core>-s03/);
});

describe("config validation", () => {
  test("refuses a tenantsPerShard whose full shard would pass 1,000 resources, with the most it allows", () => {
    const e = configError(withChange(fixed, (c) => void (c.shards = { tenantsPerShard: 60 })));
    expect(e.issues).toContainEqual({
      key: "shards.tenantsPerShard",
      message:
        // + 11: the shard's own parts, its monitoring-certs command among them.
        "got 60; a full shard stack would register 1031 resources (60 × 17 per tenant + 11), above 1000, where pulumi preview slows down; set at most 58 (before any shard stack exists: changing it moves tenants between stacks)",
    });
    expect(() => stackCapacity(withChange(fixed, (c) => void (c.shards = { tenantsPerShard: 58 })), "test")).not.toThrow();
  });
  test("refuses shards.shard without tenantsPerShard, or naming a shard with no tenant", () => {
    expect(configError(withChange(distinct, (c) => void (c.shards = { shard: "s01" }))).issues.map((i) => i.key)).toContain("shards.shard");
    expect(configError(sharded(distinct, "s02x")).issues.map((i) => i.key)).toContain("shards.shard");
    expect(configError(sharded(distinct, "s04")).issues).toContainEqual({
      key: "shards.shard",
      message: 'got "s04"; no tenant\'s slot is in it (shards: s01, s02, s03); delete this stack\'s file or run `npm run shards -- --stack <core>`',
    });
  });
});

test("the cluster stack: the core and every shard stack stay at or under 1,000 resources", async () => {
  const raw = readStackFile(ROOT, "cluster");
  const cfg = validateStack(raw, "cluster").config;
  const plan = stackCapacity(raw, "cluster").plan;
  expect(plan.shards?.names.length).toBe(30);
  const per = new Map<string, number>();
  for (const t of plan.tenants) per.set(t.shard!, (per.get(t.shard!) ?? 0) + 1);
  // Every shard's count from the figures the program test above checks against real registrations.
  const counts = [...per].map(([s, n]) => [s, shardOverhead(cfg) + n * tenantResources(cfg)] as const);
  expect(counts.filter(([, n]) => n > STACK_RESOURCE_LIMIT)).toEqual([]);
  expect(shardResources(cfg, 50)).toBeLessThanOrEqual(STACK_RESOURCE_LIMIT);
  // The core is a real run: nothing in it grows past the limit with 1,500 tenants.
  const core = await runProgram("cluster", raw);
  if (core.error) throw core.error;
  expect(core.resources.filter(isTenantPart)).toEqual([]);
  expect(engineCount(core)).toBeLessThanOrEqual(STACK_RESOURCE_LIMIT);
  // The first, a middle and the last shard, run and counted by the engine's rules (each ≈ 2 s and 25 MB of heap that
  // a Jest run keeps; `npm run bench` runs every shard, each in a process of its own).
  for (const s of ["s01", "s15", "s30"]) {
    const run = await runProgram(`cluster-${s}`, readStackFile(ROOT, `cluster-${s}`), undefined, { cluster: core.outputs });
    if (run.error) throw run.error;
    const mine = plan.tenants.filter((t) => t.shard === s).map((t) => `tenant-${t.key}`);
    expect(mine).toHaveLength(50);
    expect(run.resources.filter((r) => r.type === "librerouter:tenant:Tenant").map((r) => r.name)).toEqual(mine);
    expect([s, engineCount(run)]).toEqual([s, counts.find(([x]) => x === s)![1]]);
  }
}, TIMEOUT);

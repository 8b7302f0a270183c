/**
 * Change safety across stacks (issue 13): what `pulumi up` does in each stack when a tenant is added to a sharded
 * service, and when a one-stack service becomes a core and shards with `pulumi state move`. The engine is modelled
 * as in scenarios.test.ts (engine/classify.ts); `pulumi state move` as pkg/cmd/pulumi/state/state_move.go does it:
 * the moved resources (a Tenant component brings its children) get URNs in the destination stack, a parent left
 * behind becomes the destination's root stack, dependencies on resources left behind are dropped (breakDependencies),
 * and the provider they use is copied, or reused when the destination has one of the same URN and equal inputs.
 *
 * A StackReference is a read (sdk/nodejs/stackReference.ts registers it with an `id`): the engine reads it in
 * preview too, so its outputs are known there. The classifier treats a new resource as a create with unknown
 * outputs, so each shard's state holds its StackReference already.
 *
 * What this cannot prove: the real CLI's move (it is modelled from its source), and URNs of deeper parent chains.
 */
import { certRows, rowsMissingFrom, shardCertsFile, stdinWithoutCerts, tenantCertRow } from "./engine/cert-figures";
import { printPlan } from "./engine/print";
import { changes, classify } from "./engine/classify";
import { invariantViolations } from "./engine/scenario";
import { clusterConfig, withChange } from "../config/fixture";
import { stackCapacity } from "../../stack/compile";
import { type ProgramRun, type Recorded, runProgram } from "./harness";

const TIMEOUT = 300_000;
type Raw = Record<string, unknown>;
const PER_SHARD = 5;
const base = clusterConfig();
const sharded = (c: Raw, shard?: string): Raw => withChange(c as ReturnType<typeof clusterConfig>, (x) => void (x.shards = { tenantsPerShard: PER_SHARD, ...(shard ? { shard } : {}) })) as Raw;
const withNewco = withChange(base, (c) => void (c.tenants = { ...c.tenants, newco: { slot: 3 } }));
const SHARDS = ["s01", "s02", "s03"];

async function ok(run: Promise<ProgramRun>): Promise<ProgramRun> {
  const r = await run;
  if (r.error) throw r.error;
  return r;
}
/** The core's run and each shard's, reading that core. */
async function service(cfg: Raw): Promise<{ core: ProgramRun; shards: Record<string, ProgramRun> }> {
  const core = await ok(runProgram("test", sharded(cfg)));
  const shards: Record<string, ProgramRun> = {};
  for (const s of SHARDS) shards[s] = await ok(runProgram(`test-${s}`, sharded(cfg, s), undefined, { test: core.outputs }));
  return { core, shards };
}
const isRef = (r: Recorded) => r.type === "pulumi:pulumi:StackReference";
const tenantOf = (keys: readonly string[]) => (r: Recorded) => keys.some((k) => r.name === `tenant-${k}` || r.name.startsWith(`tenant-${k}-`));

/** `pulumi state move --source <from> --dest <to>` of `moved` (with their children), modelled on state_move.go. */
function stateMove(source: readonly Recorded[], moved: (r: Recorded) => boolean, from: string, to: string): Recorded[] {
  const rename = <T>(v: T): T => JSON.parse(JSON.stringify(v).replaceAll(`urn:pulumi:${from}::`, `urn:pulumi:${to}::`)) as T;
  const picked = source.filter(moved);
  const kept = new Set(picked.map((r) => r.urn));
  const providers = source.filter((r) => r.type.startsWith("pulumi:providers:") && picked.some((m) => m.provider.startsWith(`${r.urn}::`)));
  const cut = (r: Recorded): Recorded => ({
    ...r,
    options: {
      ...r.options,
      dependencies: r.options.dependencies.filter((u) => kept.has(u)),
      propertyDependencies: Object.fromEntries(Object.entries(r.options.propertyDependencies).map(([k, us]) => [k, us.filter((u) => kept.has(u))])),
    },
  });
  return [...providers, ...picked].map((r) => rename(cut(r)));
}

function plan(title: string, before: readonly Recorded[], after: readonly Recorded[]) {
  const p = classify(before, after);
  process.stdout.write(printPlan(title, p));
  return { plan: p, changes: changes(p) };
}

describe("adding a tenant to a sharded service (newco into free slot 3, shard s01)", () => {
  let before: Awaited<ReturnType<typeof service>>;
  let after: Awaited<ReturnType<typeof service>>;
  beforeAll(async () => {
    before = await service(base);
    after = await service(withNewco);
  }, TIMEOUT);

  test("the core's shardLayout changes with the config, so every shard file is rewritten (npm run shards); newco falls in s01", () => {
    expect(after.core.outputs.shardLayout.value).not.toEqual(before.core.outputs.shardLayout.value);
    expect(stackCapacity(sharded(withNewco, "s01"), "test-s01").plan.tenants.find((t) => t.key === "newco")?.shard).toBe("s01");
  });

  test("the core: only the services VM's reverse zone (it lists every tenant's PTR), in place", () => {
    const s = plan("core after adding newco", before.core.resources, after.core.resources);
    expect(s.changes).toEqual([["update", "services-setup", ["stdin"]]]);
    expect(invariantViolations({ ...s, before: before.core, after: after.core }, (n) => n === "services-setup")).toEqual([]);
  });

  test("shard s01: newco's resources are created and its SDN apply runs again for the new vnet; its other tenants untouched", () => {
    const s = plan("shard s01 after adding newco", before.shards.s01.resources, after.shards.s01.resources);
    const created = after.shards.s01.resources.filter(tenantOf(["newco"])).map((r) => r.name).sort();
    expect(created.length).toBeGreaterThan(10);
    const expected: [string, string, string[]][] = [
      ["replace", "sdn-apply", ["replacementTrigger"]],
      // The shard's certificate figures gain newco's end (unknown at preview: its certificate is new), in place.
      ["update", "monitoring-certs", ["stdin"]],
      ...created.map((n): [string, string, string[]] => ["create", n, []]),
    ];
    expect(s.changes).toEqual(expected.sort((a, b) => a[1].localeCompare(b[1])));
    const rows = (run: ProgramRun) => certRows(run.resources, "monitoring-certs", shardCertsFile("s01"));
    expect(rowsMissingFrom(rows(after.shards.s01), rows(before.shards.s01))).toEqual([tenantCertRow(after.shards.s01.resources, "newco")]);
    expect(rowsMissingFrom(rows(before.shards.s01), rows(after.shards.s01))).toEqual([]);
    const allowed = (n: string) => n === "sdn-apply" || n === "monitoring-certs" || tenantOf(["newco"])({ name: n } as Recorded);
    expect(invariantViolations({ ...s, before: before.shards.s01, after: after.shards.s01 }, allowed)).toEqual([]);
  });

  test.each(["s02", "s03"])("shard %s: no change at all (its preview can be skipped)", (sh) => {
    expect(plan(`shard ${sh} after adding newco`, before.shards[sh].resources, after.shards[sh].resources).changes).toEqual([]);
  });
});

describe("one stack → core + shards: every shard's tenants moved with pulumi state move, then pulumi up in each stack", () => {
  let one: ProgramRun;
  let split: Awaited<ReturnType<typeof service>>;
  const keysOf = (s: string) => stackCapacity(sharded(base), "test").plan.tenants.filter((t) => t.shard === s).map((t) => t.key);
  beforeAll(async () => {
    one = await ok(runProgram("test", base as Raw));
    split = await service(base);
  }, TIMEOUT);

  test("the core (the old stack, its tenants moved out): its SDN apply, replaced since it now follows no vnet, and its certificate figures without the tenants; nothing deleted", () => {
    const all = SHARDS.flatMap(keysOf);
    const left = one.resources.filter((r) => !tenantOf(all)(r));
    const s = plan("core after the moves", left, split.core.resources);
    expect(s.changes).toEqual([
      // Every tenant's row leaves the core's lr-certs.prom (its shard writes it now, below); the CA's stays. In place.
      ["update", "monitoring-services", ["stdin"]],
      ["replace", "sdn-apply", ["replacementTrigger"]],
    ]);
    expect(rowsMissingFrom(certRows(one.resources), certRows(split.core.resources)).sort()).toEqual(all.map((k) => tenantCertRow(one.resources, k)).sort());
    expect(rowsMissingFrom(certRows(split.core.resources), certRows(one.resources))).toEqual([]);
    expect(stdinWithoutCerts(split.core.resources.find((r) => r.name === "monitoring-services")!)).toBe(stdinWithoutCerts(one.resources.find((r) => r.name === "monitoring-services")!));
    expect(s.plan.deleteScripts).toEqual([]);
  });

  test("without the move the core's up would delete the tenants: the engine refuses their protected VMs", () => {
    const s = plan("core without the moves", one.resources, split.core.resources);
    const refused = s.changes.filter(([op]) => op === "delete refused:protected").map(([, n]) => n);
    const protectedParts = one.resources.filter((r) => tenantOf(SHARDS.flatMap(keysOf))(r) && r.options.protect).map((r) => r.name);
    expect(protectedParts.filter((n) => n.endsWith("-vm"))).toHaveLength(7);
    expect(refused.sort()).toEqual(protectedParts.sort());
  });

  test.each(SHARDS)("shard %s after the move: its tenants unchanged (same URNs in the new stack, same inputs, same provider); only the shard's own parts are new", (sh) => {
    const keys = keysOf(sh);
    const run = split.shards[sh];
    const state = [...stateMove(one.resources, tenantOf(keys), "test", `test-${sh}`), ...run.resources.filter(isRef)];
    const s = plan(`shard ${sh} after the move`, state, run.resources);
    // The copied provider is the shard's own `proxmox` (same URN, equal inputs): state_move.go reuses it.
    expect(s.changes).toEqual([
      // The shard's tenants' certificate figures, the rows the core's monitoring-services gave up.
      ["create", "monitoring-certs", []],
      ["create", "proxmox-preflight", []],
      ["create", "sdn", []],
      ["create", "sdn-apply", []],
    ]);
    expect(certRows(run.resources, "monitoring-certs", shardCertsFile(sh))).toEqual(keys.map((k) => tenantCertRow(one.resources, k)).sort());
    expect(s.plan.steps.filter((st) => st.op === "same" && st.name.startsWith("tenant-")).length).toBe(run.resources.filter(tenantOf(keys)).length);
  });
});

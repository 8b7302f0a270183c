/** Allocation properties over random valid tenant sets: nothing shared, everything inside its pool,
 * stable under adding/removing a tenant, deterministic, independent of the tenants map's order. */
import fc from "fast-check";
import { contains, ipToInt, overlaps, parseCidr, size } from "../../lib/ipv4";
import { unusableReason } from "../../plan/alloc";
import type { StackConfig } from "../../config/schema";
import { buildPlan } from "../../plan/build";
import { validateStack } from "../../plan/validate";
import { INSTANCE_IDS, Plan, TenantPlan } from "../../plan/types";
import { MAX_DEFAULT_SLOT, tenantKey, validStack } from "./arbitraries";

const SEED = 20250611;
const RUNS = 300;
const plan = (raw: unknown): Plan => buildPlan(raw, "prop");

function expectDistinct(label: string, values: readonly unknown[]): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const k = JSON.stringify(v);
    if (seen.has(k)) throw new Error(`${label}: ${k} is shared by tenants #${seen.get(k)} and #${i}`);
    seen.set(k, i);
  });
}

/** Every containment rule broken by `p`, as readable lines (plain checks: one `expect` per run keeps 300
 * runs fast). */
function outOfPlace(p: Plan, cfg: StackConfig): string[] {
  const bad: string[] = [];
  const check = (ok: boolean, what: string) => ok || bad.push(what);
  const tenantPrivate = parseCidr(cfg.network.tenantPrivate);
  const tunnel = parseCidr(cfg.network.tunnelSupernet);
  const mgmt = parseCidr(cfg.network.management.cidr);
  const infra = new Set([p.host.publicIp, p.servers[0].publicIp, p.servers[1].publicIp, p.services.publicIp]);
  check(infra.size === 4, `infrastructure shares addresses: ${[...infra].join(", ")}`);
  for (const ip of infra) check(unusableReason(cfg, ip) === undefined, `infrastructure address ${ip} is not usable`);
  for (const t of p.tenants) {
    const at = `tenant ${t.key} (slot ${t.slot})`;
    for (const inst of p.instances) {
      const pool = parseCidr(inst.cidr);
      const ip = ipToInt(t.tunnelIps[inst.id]);
      // Above the gateway (base + 1), below the broadcast address.
      check(ip > pool.base + 1 && ip < pool.base + size(pool) - 1, `${at}: ${inst.id} tunnel IP ${t.tunnelIps[inst.id]} not a client address of ${inst.cidr}`);
    }
    const priv = parseCidr(t.privateCidr);
    check(priv.prefix === 24 && contains(tenantPrivate, priv.base) && contains(tenantPrivate, priv.base + 255), `${at}: ${t.privateCidr} not a /24 of tenantPrivate`);
    check(!overlaps(priv, tunnel), `${at}: ${t.privateCidr} overlaps the tunnel supernet`);
    check(!overlaps(priv, mgmt), `${at}: ${t.privateCidr} overlaps management`);
    check([t.routerIp, ...t.vpnLanIps].map((a) => ipToInt(a) - priv.base).join() === "1,2,3", `${at}: router/vpn LAN IPs not .1/.2/.3`);
    check(unusableReason(cfg, t.publicIp) === undefined, `${at}: public IP ${t.publicIp} not usable`);
    check(!infra.has(t.publicIp), `${at}: public IP ${t.publicIp} is infrastructure's`);
    const pool = cfg.network.publicPools.find((x) => contains(parseCidr(x.cidr), ipToInt(t.publicIp)));
    check(!!pool && t.publicGateway === pool.gateway && t.publicPrefix === parseCidr(pool.cidr).prefix, `${at}: wrong gateway/prefix ${t.publicGateway}/${t.publicPrefix}`);
    check(t.vlan >= 1 && t.vlan <= 4094 && t.link === `vl${t.vlan}`, `${at}: VLAN ${t.vlan}, link ${t.link}`);
    check(![0, 253, 254, 255].includes(t.table.id) && t.table.name === `lb${t.slot}`, `${at}: table ${t.table.id} ${t.table.name}`);
    const port = t.vnc.port;
    check(port === 5900 + t.vnc.display && port <= 65535 && !(port >= 5900 && port <= 6000) && port !== 8006 && !(port >= 60000 && port <= 60050), `${at}: VNC port ${port}`);
    check(![200, 201, 210, 9000].includes(t.vmid), `${at}: VMID ${t.vmid} is an infrastructure VM's`);
    check(t.memory.minMb <= t.memory.maxMb, `${at}: balloon ${t.memory.minMb} > ${t.memory.maxMb}`);
  }
  return bad;
}

const byKey = (p: Plan): Map<string, TenantPlan> => new Map(p.tenants.map((t) => [t.key, t]));

describe("plan properties (fast-check)", () => {
  it("no two tenants share a VMID, VLAN, link, subnet, public IP, tunnel IP, routing table or VNC display/port", () => {
    fc.assert(
      fc.property(validStack, ({ raw }) => {
        const ts = plan(raw).tenants;
        expectDistinct("key", ts.map((t) => t.key));
        expectDistinct("vmName", ts.map((t) => t.vmName));
        expectDistinct("slot", ts.map((t) => t.slot));
        expectDistinct("vmid", ts.map((t) => t.vmid));
        expectDistinct("vlan", ts.map((t) => t.vlan));
        expectDistinct("link", ts.map((t) => t.link));
        expectDistinct("privateCidr", ts.map((t) => t.privateCidr));
        expectDistinct("publicIp", ts.map((t) => t.publicIp));
        // One set across all four instances: the pools are disjoint, so no IP may appear twice anywhere.
        expectDistinct("tunnelIp", ts.flatMap((t) => INSTANCE_IDS.map((i) => t.tunnelIps[i])));
        expectDistinct("table.id", ts.map((t) => t.table.id));
        expectDistinct("table.name", ts.map((t) => t.table.name));
        expectDistinct("vnc.display", ts.map((t) => t.vnc.display));
        expectDistinct("vnc.port", ts.map((t) => t.vnc.port));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("every address lies in its pool and clear of the gateway, infrastructure and reserved ranges", () => {
    fc.assert(
      fc.property(validStack, ({ raw }) => {
        const p = plan(raw);
        expect(outOfPlace(p, validateStack(raw, "prop").config)).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("removing one named tenant leaves every other TenantPlan deep-equal", () => {
    fc.assert(
      fc.property(validStack, fc.nat(), ({ raw }, pick) => {
        const keys = Object.keys(raw.tenants);
        const gone = keys[pick % keys.length];
        const before = byKey(plan(raw));
        const smaller = structuredClone(raw);
        delete smaller.tenants[gone];
        const after = byKey(plan(smaller));
        expect(after.size).toBe(before.size - 1);
        expect(after.has(gone)).toBe(false);
        expect([...after.values()]).toEqual([...after.keys()].map((k) => before.get(k)));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("removing one numbered tenant (via exclude) leaves every other TenantPlan deep-equal", () => {
    fc.assert(
      fc.property(validStack, fc.nat(), ({ raw }, pick) => {
        const range = raw.numberedTenants;
        if (range === undefined || range.count <= range.exclude.length) return fc.pre(false);
        const before = byKey(plan(raw));
        const numbered = [...before.values()].filter((t) => t.numbered);
        const gone = numbered[pick % numbered.length];
        const smaller = { ...structuredClone(raw), numberedTenants: { ...range, exclude: [...range.exclude, gone.slot] } };
        const after = byKey(plan(smaller));
        expect(after.size).toBe(before.size - 1);
        expect(after.has(gone.key)).toBe(false);
        expect([...after.values()]).toEqual([...after.keys()].map((k) => before.get(k)));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("adding one tenant leaves every other TenantPlan deep-equal", () => {
    fc.assert(
      fc.property(validStack, tenantKey, fc.integer({ min: 1, max: MAX_DEFAULT_SLOT }), ({ raw, usedSlots }, key, slot) => {
        fc.pre(!(key in raw.tenants) && !usedSlots.has(slot));
        const before = byKey(plan(raw));
        const bigger = structuredClone(raw);
        bigger.tenants[key] = { slot };
        const after = byKey(plan(bigger));
        expect(after.size).toBe(before.size + 1);
        expect(after.get(key)?.slot).toBe(slot);
        expect([...before.keys()].map((k) => after.get(k))).toEqual([...before.values()]);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("same input, same plan; the input is not modified", () => {
    fc.assert(
      fc.property(validStack, ({ raw }) => {
        const copy = structuredClone(raw);
        const a = plan(raw);
        const b = plan(raw);
        expect(b).toEqual(a);
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        expect(raw).toEqual(copy);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("reordering the tenants map does not change the plan", () => {
    fc.assert(
      fc.property(
        validStack.chain((g) => fc.tuple(fc.constant(g), fc.shuffledSubarray(Object.keys(g.raw.tenants), { minLength: Object.keys(g.raw.tenants).length }))),
        ([{ raw }, order]) => {
          const reordered = { ...raw, tenants: Object.fromEntries(order.map((k) => [k, raw.tenants[k]])) };
          const a = plan(raw);
          const b = plan(reordered);
          expect(b).toEqual(a);
          expect(JSON.stringify(b.tenants)).toBe(JSON.stringify(a.tenants));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});

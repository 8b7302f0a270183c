/** Tenant placement (plan/placement.ts, plan/cluster.ts): deterministic, stable, weighted, pinned. */
import fc from "fast-check";
import { buildPlan } from "../../plan/build";
import { rendezvousNode, WeightedNode } from "../../plan/placement";
import { clusterConfig, withChange } from "../config/fixture";

const three: WeightedNode[] = [
  { name: "pve-a", weight: 512 },
  { name: "pve-b", weight: 512 },
  { name: "pve-c", weight: 512 },
];
const keys = (n: number) => Array.from({ length: n }, (_, i) => `t${i + 1}`);
const count = (placed: string[]) => placed.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {});

describe("rendezvous placement", () => {
  it("a tenant's node is the same whatever other tenants the stack declares (random subsets of 40 numbered tenants)", () => {
    const slots = Array.from({ length: 40 }, (_, i) => i + 20);
    const planned = (keep: number[]) =>
      buildPlan(
        withChange(clusterConfig(), (c) => {
          c.numberedTenants = { count: 0 };
          for (const s of keep) c.tenants[`n${s}`] = { slot: s };
        }),
        "test",
      ).tenants;
    const all = Object.fromEntries(planned(slots).map((t) => [t.key, t.node]));
    expect(new Set(Object.values(all)).size).toBe(3);
    fc.assert(
      fc.property(fc.subarray(slots, { minLength: 1 }), (keep) => {
        for (const t of planned(keep)) if (t.key in all) expect([t.key, t.node]).toEqual([t.key, all[t.key]]);
      }),
      { numRuns: 30 },
    );
  });

  it("1,500 tenants over three equal nodes: each within 10 % of 500", () => {
    const c = count(keys(1500).map((k) => rendezvousNode(k, three)));
    for (const n of three) expect(Math.abs(c[n.name] - 500)).toBeLessThan(50);
  });

  it("weights are shares: a node with twice the RAM takes about half of them", () => {
    const c = count(keys(4000).map((k) => rendezvousNode(k, [{ name: "big", weight: 1024 }, ...three.slice(1)])));
    expect(c.big / 4000).toBeGreaterThan(0.45);
    expect(c.big / 4000).toBeLessThan(0.55);
  });

  it("adding a node moves only tenants onto it, about a quarter of them; removing it puts them back where they were", () => {
    const four = [...three, { name: "pve-d", weight: 512 }];
    const ks = keys(2000);
    const before = ks.map((k) => rendezvousNode(k, three));
    const after = ks.map((k) => rendezvousNode(k, four));
    const moved = ks.filter((_, i) => before[i] !== after[i]);
    expect(new Set(moved.map((k) => rendezvousNode(k, four)))).toEqual(new Set(["pve-d"]));
    expect(moved.length / ks.length).toBeGreaterThan(0.2);
    expect(moved.length / ks.length).toBeLessThan(0.3);
    expect(ks.map((k) => rendezvousNode(k, three))).toEqual(before);
  });
});

describe("placement in the plan", () => {
  const nodesOf = (p: ReturnType<typeof buildPlan>) => Object.fromEntries(p.tenants.map((t) => [t.key, t.node]));

  it("adding, removing and resizing tenants moves no other tenant", () => {
    const base = nodesOf(buildPlan(clusterConfig(), "test"));
    const changed = nodesOf(
      buildPlan(
        withChange(clusterConfig(), (c) => {
          delete c.tenants.beta;
          c.tenants.acme = { slot: 1, memory: { minMb: 2048, maxMb: 4096 }, diskGb: 200 };
          c.tenants.gamma = { slot: 3 };
          c.numberedTenants.count = 20;
        }),
        "test",
      ),
    );
    for (const [k, n] of Object.entries(base)) if (k !== "beta") expect([k, changed[k]]).toEqual([k, n]);
  });

  it("a node added with firstSlot = the next free slot moves no tenant; the tenants added after it spread over all four", () => {
    const grown = (c: ReturnType<typeof clusterConfig>, count: number) =>
      withChange(c, (x) => {
        x.numberedTenants.count = count;
        x.nodes!.push({ name: "pve4", mgmtIp: "192.168.100.40", hardware: { ramGb: 512, cpuCores: 32 }, templates: { librerouter: 9030, debian: 9031 }, firstSlot: 200 });
      });
    const before = buildPlan(withChange(clusterConfig(), (c) => void (c.numberedTenants.count = 120)), "test");
    const after = buildPlan(grown(clusterConfig(), 240), "test");
    const was = nodesOf(before);
    const old = after.tenants.filter((t) => t.key in was);
    expect(old).toHaveLength(before.tenants.length);
    for (const t of old) expect([t.key, t.node]).toEqual([t.key, was[t.key]]);
    const added = after.tenants.filter((t) => !(t.key in was));
    // firstSlot 200: the new node takes only slots 200 and up, about a quarter of them.
    expect(added.filter((t) => t.node === "pve4").every((t) => t.slot >= 200)).toBe(true);
    const fresh = added.filter((t) => t.slot >= 200);
    expect(new Set(fresh.map((t) => t.node))).toEqual(new Set(["pve1", "pve2", "pve3", "pve4"]));
    // Without firstSlot, tenants already running move onto it: what the option is for.
    const unguarded = buildPlan(withChange(grown(clusterConfig(), 120), (c) => void delete c.nodes![3].firstSlot), "test");
    expect(unguarded.tenants.filter((t) => t.node !== was[t.key]).length).toBeGreaterThan(10);
  });

  it("spreads the tenants over all three nodes; a `node` pin wins", () => {
    const p = buildPlan(withChange(clusterConfig(), (c) => void (c.numberedTenants.count = 60)), "test");
    expect(new Set(p.tenants.map((t) => t.node))).toEqual(new Set(["pve1", "pve2", "pve3"]));
    const pinned = buildPlan(withChange(clusterConfig(), (c) => void (c.tenants.acme.node = "pve3")), "test");
    expect(pinned.tenants.find((t) => t.key === "acme")!.node).toBe("pve3");
  });

  it("vpn1, vpn2 and the services VM on the first, second and third node, unless placed", () => {
    const p = buildPlan(clusterConfig(), "test");
    expect([p.servers[0].node, p.servers[1].node, p.services.node]).toEqual(["pve1", "pve2", "pve3"]);
    const q = buildPlan(withChange(clusterConfig(), (c) => void (c.placement = { vpn1: "pve3", services: "pve1" })), "test");
    expect([q.servers[0].node, q.servers[1].node, q.services.node]).toEqual(["pve3", "pve2", "pve1"]);
  });

  it("the zone's peers are every node's management address, then vpn1's and vpn2's; the vnets' MTU leaves room for VXLAN", () => {
    const p = buildPlan(clusterConfig(), "test");
    expect(p.sdn).toEqual({ zone: "lrvx", vniBase: 100000, mtu: 1450, port: 4789, peers: ["192.168.100.10", "192.168.100.20", "192.168.100.30", "192.168.100.11", "192.168.100.12"] });
  });

  it("shards by slot range: slots 1–5 in s01, 6–10 in s02, …; a tenant's shard never depends on the others", () => {
    const p = buildPlan(withChange(clusterConfig(), (c) => void (c.shards = { tenantsPerShard: 5 })), "test");
    expect(p.tenants.map((t) => `${t.slot}:${t.shard}`)).toEqual(["1:s01", "2:s01", "10:s02", "11:s03", "12:s03", "13:s03", "14:s03"]);
    expect(p.shards).toEqual({ tenantsPerShard: 5, names: ["s01", "s02", "s03"] });
  });
});

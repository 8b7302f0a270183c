/**
 * SdnZone for a stack that adds vnets to a zone another stack owns (`ownsZone: false`, a shard stack): no zone, no
 * zone finalizer, only its own apply after its own vnets; and applyAfter refuses a second call. Under mocks
 * (pulumi.runtime.setMocks, set before the component is loaded).
 */
import * as pulumi from "@pulumi/pulumi";
import { clusterConfig } from "../config/fixture";
import { buildPlan } from "../../plan/build";

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
void pulumi.runtime.setMocks(
  {
    newResource: (a) => {
      registered.push({ type: a.type, name: a.name, inputs: a.inputs });
      return { id: `${a.name}-id`, state: a.inputs };
    },
    call: () => ({}),
  },
  "librerouter-hosting",
  "shard",
  false,
);

test("ownsZone false: only the shard's vnets' finalizers, vnets, subnets and one apply, which `applied` (what tenant VMs wait on) resolves to", async () => {
  const { SdnZone, tenantVnet } = await import("../../components/sdn");
  const plan = buildPlan(clusterConfig(), "shard");
  const zone = new SdnZone("sdn", { plan, ownsZone: false });
  expect(zone.zone).toBeUndefined();
  const parent = new pulumi.ComponentResource("test:index:Parent", "p");
  const vnets = plan.tenants.slice(0, 2).map((t) => tenantVnet(`tenant-${t.key}`, plan, t, zone, { parent }));
  const apply = zone.applyAfter(vnets);
  expect(await zone.applied).toBe(apply);
  expect(() => zone.applyAfter(vnets)).toThrow("sdn: applyAfter called twice");
  await new Promise((r) => setTimeout(r, 200));
  const t = plan.tenants.slice(0, 2).map((x) => x.key);
  expect(registered.map((r) => r.name).sort()).toEqual(["sdn", "p", "sdn-apply", ...t.flatMap((k) => [`tenant-${k}-sdn-finalizer`, `tenant-${k}-vnet`, `tenant-${k}-subnet`])].sort());
  expect(registered.filter((r) => r.type === "proxmoxve:sdn/zone/vxlan:Vxlan")).toEqual([]);
  expect(registered.find((r) => r.name === "sdn-apply")?.inputs).toEqual({ onCreate: true, onDestroy: false });
});

test("the apply's trigger changes with any vnet, subnet or zone input and not with their order", async () => {
  const { SdnZone } = await import("../../components/sdn");
  const plan = buildPlan(clusterConfig(), "shard");
  const a = { id: "lr1", vni: 100001, cidr: "10.0.1.0/24" };
  const b = { id: "lr2", vni: 100002 };
  const t = SdnZone.trigger(plan, [a, b]);
  expect(SdnZone.trigger(plan, [b, a])).toBe(t);
  expect(SdnZone.trigger(plan, [a])).not.toBe(t);
  expect(SdnZone.trigger(plan, [{ ...a, vni: 100009 }, b])).not.toBe(t);
  expect(SdnZone.trigger(plan, [{ ...a, cidr: "10.0.9.0/24" }, b])).not.toBe(t);
  if (!plan.sdn) throw new Error("fixture has sdn");
  expect(SdnZone.trigger({ ...plan, sdn: { ...plan.sdn, mtu: 1400 } }, [a, b])).not.toBe(t);
});

/**
 * The data plane, for real: one lab bring-up (2 tenants, both VPN servers with both instances, QEMU consoles,
 * end-user clients) shared by every check in lab/checks.ts, in order. Needs root; nothing leaves the namespaces.
 */
import { existsSync } from "node:fs";
import { bringUp } from "../../lab/bringup";
import { CHECKS } from "../../lab/checks";
import { run } from "../../lab/exec";
import { Lab } from "../../lab/lab";
import { LAB_TRUNK } from "../../lab/layout";
import { alive } from "../../lab/procs";

const lines: string[] = [];
const results: string[] = [];
const lab = new Lab({ tenants: 2, log: (l) => lines.push(l) });
let upError: Error | undefined;

beforeAll(async () => {
  try {
    await bringUp(lab);
  } catch (e) {
    upError = e as Error;
  }
}, 120_000);

afterAll(async () => {
  // The measured figures (bring-up steps, failover seconds, …) belong in the CI log.
  process.stdout.write(`${[...lines, ...results].join("\n")}\n`);
  await lab.teardown();
}, 60_000);

describe("lab data plane", () => {
  it("comes up: topology, PKI, consoles, 4 OpenVPN instances, every client connected", () => {
    if (upError) throw upError;
    expect([...lab.servers.keys()].sort()).toEqual(["vpn1-tcp", "vpn1-udp", "vpn2-tcp", "vpn2-udp"]);
    expect([...lab.clients.keys()].sort()).toEqual(lab.plan.tenants.map((t) => t.key).sort());
    expect([...lab.qemus.keys()].sort()).toEqual(lab.plan.tenants.map((t) => t.key).sort());
  });

  it("each VPN server's trunk came up as ens19 and was renamed by MAC to the layout's name by the setup script, and is UP", async () => {
    for (const s of lab.plan.servers) {
      const trunk = lab.layouts[s.name].ifaces.trunk;
      const link = (await run(["ip", "-o", "link", "show", "dev", trunk], { ns: lab.ns[s.name] })).stdout;
      expect(link).toMatch(new RegExp(`^\\d+: ${trunk}@${LAB_TRUNK.peer}: <BROADCAST,MULTICAST,UP,LOWER_UP> .* state UP .* link/ether ${LAB_TRUNK.mac[s.name]} `));
      expect((await run(["ip", "link", "show", "dev", LAB_TRUNK.name], { ns: lab.ns[s.name] })).code).not.toBe(0);
    }
  });

  for (const check of CHECKS) {
    it(`${check.id}: ${check.title}`, async () => {
      if (upError) throw new Error(`bring-up failed: ${upError.message}`);
      const t0 = Date.now();
      const detail = await check.run(lab);
      results.push(`[lab] ${check.id} PASS ${((Date.now() - t0) / 1000).toFixed(2)}s: ${detail}`);
    }, 90_000);
  }

  it("teardown removes every namespace, process and file of the run", async () => {
    const pids = lab.procs.all.map((p) => p.pid);
    const namespaces = [...lab.netns.created];
    expect(namespaces.length).toBeGreaterThan(0);
    await lab.teardown();
    const list = (await run(["ip", "netns", "list"])).stdout;
    expect(namespaces.filter((ns) => list.includes(ns))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(namespaces.filter((ns) => existsSync(`/etc/netns/${ns}`))).toEqual([]);
    expect(existsSync(lab.dir)).toBe(false);
  }, 60_000);
});

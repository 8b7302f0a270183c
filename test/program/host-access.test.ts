/**
 * The host's API (8006) and SSH (22) on its public IP: with `network.opsNetworks` set, one node-level firewall
 * rule set accepts them from those networks and management and drops them for everyone else; without it, none
 * (Pulumi must not lock itself out of a host it reaches from an unlisted network). Config errors name the key.
 */
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";
import { type ProgramRun, byName, runProgram } from "./harness";

const ROOT = `${__dirname}/../..`;
const RULES = "proxmoxve:firewall/rulesLegacy:RulesLegacy";
const withOps = (ops: unknown): Record<string, unknown> => {
  const raw = readStackFile(ROOT, "minimal") as Record<string, unknown>;
  return { ...raw, network: { ...(raw.network as Record<string, unknown>), opsNetworks: ops } };
};
let plain: ProgramRun;
let ops: ProgramRun;

beforeAll(async () => {
  plain = await runProgram("minimal", readStackFile(ROOT, "minimal"));
  ops = await runProgram("minimal", withOps(["203.0.113.0/24", "198.18.0.0/15"]));
  for (const r of [plain, ops]) if (r.error) throw r.error;
}, 180_000);

describe("host API/SSH access", () => {
  it("no opsNetworks: no host rule set", () => {
    expect(plain.resources.filter((r) => r.type === RULES)).toEqual([]);
  });

  it("with opsNetworks: one node rule set, accept from them and mgmt first, then drop on the public IP; VMs wait for it", () => {
    const rules = ops.resources.filter((r) => r.type === RULES);
    expect(rules.map((r) => r.name)).toEqual(["host-host-access"]);
    const plan = buildPlan(withOps(["203.0.113.0/24", "198.18.0.0/15"]) as never, "minimal");
    expect(rules[0].inputs.nodeName).toBe(plan.host.node);
    expect(rules[0].inputs.rules).toEqual([
      { type: "in", action: "ACCEPT", proto: "tcp", dport: "22,8006", source: "192.168.100.0/24,203.0.113.0/24,198.18.0.0/15", comment: "librerouter: API and SSH from ops networks and management" },
      { type: "in", action: "DROP", proto: "tcp", dport: "22,8006", dest: plan.host.publicIp, comment: "librerouter: API and SSH closed to everyone else on the public IP" },
    ]);
    expect(rules[0].options.dependencies).toContain(byName(ops.resources, "host-node-firewall").urn);
    expect(byName(ops.resources, "vpn1-vm").options.dependencies).toContain(rules[0].urn);
  });

  it("refuses a /0 with the key, the value and the fix", () => {
    expect(() => buildPlan(withOps(["0.0.0.0/0"]) as never, "minimal")).toThrow(
      'stack "minimal": config has 1 problem (nothing was created):\n  - librerouter-hosting:network.opsNetworks.0: got "0.0.0.0/0"; a /0 opens the host\'s API and SSH to everyone; leave opsNetworks empty instead, or name your ops networks',
    );
  });

  it("refuses a network with host bits set, naming the key", () => {
    expect(() => buildPlan(withOps(["203.0.113.1/24"]) as never, "minimal")).toThrow("librerouter-hosting:network.opsNetworks.0: got \"203.0.113.1/24\"; host bits are set");
  });
});

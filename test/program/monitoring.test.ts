/**
 * The Monitoring component under mocks (components/monitoring.ts), on its own (the lead wires it into index.ts): one
 * command per machine, to that machine, the services VM's carrying every tenant's certificate end, secret only when a
 * webhook (which may hold a token) is configured. Not seen here: the order after each machine's own setup
 * (`dependsOn`; test/program/harness.ts records it once the component is in index.ts), and that the scripts work
 * (test/e2e/monitoring.test.ts runs them).
 */
import { readStackFile } from "../../config/load";
import { monitoringSchema } from "../../config/monitoring-schema";
import { planMonitoring } from "../../plan/monitoring";
import { buildPlan } from "../../plan/build";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { isSecret, reveal, writtenFiles } from "./harness";

const ROOT = `${__dirname}/../..`;
const plan = buildPlan(readStackFile(ROOT, "minimal"), "minimal");

interface Reg {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

async function build(monCfg: Record<string, unknown> = {}): Promise<Reg[]> {
  const regs: Reg[] = [];
  let done: Promise<unknown> = Promise.resolve();
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    void pulumi.runtime.setMocks({ newResource: (a) => (regs.push({ type: a.type, name: a.name, inputs: a.inputs }), { id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs }, "librerouter-hosting", "minimal", false);
    const { Monitoring } = require("../../components/monitoring") as typeof import("../../components/monitoring");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const mon = planMonitoring(plan, monitoringSchema.parse(monCfg), 0.9);
    const key = pulumi.secret("fake-key");
    class Setup extends pulumi.CustomResource {
      constructor(n: string) {
        super("test:index:Setup", `${n}-setup`, {});
      }
    }
    const setup = (n: string) => new Setup(n);
    const guest = (ip: string) => ({ host: ip, user: "root", privateKey: key });
    const members = {
      vpn1: { connection: guest(plan.servers[0].mgmtIp), identity: "BC:24:11:00:00:01", after: [setup("vpn1")] },
      vpn2: { connection: guest(plan.servers[1].mgmtIp), identity: "BC:24:11:00:00:02", after: [setup("vpn2")] },
      services: { connection: guest(plan.services.mgmtIp), identity: "BC:24:11:00:00:03", after: [setup("services")] },
      [plan.host.node]: { connection: { host: "pve-minimal.example.net", user: "root", privateKey: key }, after: [setup("host")] },
    };
    const ends = Object.fromEntries(plan.tenants.map((t, i) => [t.key, pulumi.output(`2027-01-0${(i % 9) + 1}T00:00:00Z`)]));
    const m = new Monitoring("monitoring", { plan, mon, serverLayout: PRODUCTION_SERVER_LAYOUT, members, tenantCertEnds: ends, caEnd: "2036-01-01T00:00:00Z" });
    done = Promise.all(Object.values(m.setups).map((r) => new Promise((ok) => (r as unknown as { urn: { apply: (f: (u: string) => void) => void } }).urn.apply(ok))));
  });
  await done;
  await new Promise((r) => setTimeout(r, 50));
  return regs;
}

/** The remote commands by name (registration order follows the outputs they wait on). */
const commands = (regs: Reg[]) => regs.filter((r) => r.type === "command:remote:Command").sort((a, b) => a.name.localeCompare(b.name));
const byName = (regs: Reg[], n: string) => regs.find((r) => r.name === n)!;

describe("Monitoring component", () => {
  let regs: Reg[];
  beforeAll(async () => {
    regs = await build();
  }, 60_000);

  it("one command per machine, named for it, each to that machine's address", () => {
    expect(commands(regs).map((c) => [c.name, (reveal(c.inputs.connection) as { host: string }).host])).toEqual([
      [`monitoring-${plan.host.node}`, "pve-minimal.example.net"],
      ["monitoring-services", plan.services.mgmtIp],
      ["monitoring-vpn1", plan.servers[0].mgmtIp],
      ["monitoring-vpn2", plan.servers[1].mgmtIp],
    ]);
  });

  it("guests' commands carry the VM's identity (a rebuilt VM is set up again); the host's none", () => {
    const stdin = (n: string) => String(reveal(byName(regs, n).inputs.stdin));
    expect(["vpn1", "vpn2", "services"].map((n) => /^# target: (\S+)\n/.exec(stdin(`monitoring-${n}`))?.[1])).toEqual(["BC:24:11:00:00:01", "BC:24:11:00:00:02", "BC:24:11:00:00:03"]);
    expect(stdin(`monitoring-${plan.host.node}`)).not.toContain("# target:");
  });

  it("the services VM's command holds every tenant's certificate end and the CA's; not a secret without a webhook", () => {
    const c = byName(regs, "monitoring-services");
    expect(isSecret(c.inputs.stdin)).toBe(false);
    const prom = writtenFiles(String(reveal(c.inputs.stdin))).get("/var/lib/prometheus/node-exporter/lr-certs.prom")!.content;
    expect(prom.split("\n").filter((l) => l.startsWith("lr_cert")).length).toBe(plan.tenants.length + 1);
    expect(prom).toContain(`lr_cert_expiry_timestamp_seconds{kind="tenant",name="${plan.tenants[0].key}",tenant="${plan.tenants[0].key}"} ${Date.parse("2027-01-01T00:00:00Z") / 1000}`);
  });

  it("a webhook URL (it may carry a token) makes the services VM's command secret, and only that one", async () => {
    const hooked = await build({ webhookUrl: "https://alerts.example.net/hook?token=abc" });
    expect(commands(hooked).map((c) => [c.name, isSecret(c.inputs.stdin)])).toEqual([
      [`monitoring-${plan.host.node}`, false],
      ["monitoring-services", true],
      ["monitoring-vpn1", false],
      ["monitoring-vpn2", false],
    ]);
  }, 60_000);
});

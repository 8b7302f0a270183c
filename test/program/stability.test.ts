/**
 * The program's contract towards config changes: removing a tenant touches no other tenant's resources, and a
 * bad config stops the program with the config error's own message before anything is declared.
 * (Mocks see inputs, not URNs: that names and inputs are equal is proved here; that the engine therefore
 * computes a no-op diff for the other tenants is the engine's rule, not re-proved.)
 */
import { RunError } from "@pulumi/pulumi";
import { ConfigError } from "../../config/errors";
import { readStackFile } from "../../config/load";
import { compileStack } from "../../stack/compile";
import { certRows, rowsMissingFrom, stdinWithoutCerts, tenantCertRow } from "./engine/cert-figures";
import { checkTrunks } from "./engine/provider-rules";
import { ProgramRun, Recorded, runProgram, writtenFiles } from "./harness";

const ROOT = `${__dirname}/../..`;

function byNameMap(rs: readonly Recorded[]): Map<string, Recorded> {
  return new Map(rs.map((r) => [`${r.type}::${r.name}`, r]));
}

describe("removing tenant coop-sur from the minimal stack", () => {
  let before: ProgramRun;
  let after: ProgramRun;
  beforeAll(async () => {
    const raw = readStackFile(ROOT, "minimal");
    const without = structuredClone(raw) as { tenants: Record<string, unknown> };
    delete without.tenants["coop-sur"];
    before = await runProgram("minimal", raw);
    after = await runProgram("minimal", without);
  }, 120_000);

  test("both runs load", () => {
    expect(before.error).toBeUndefined();
    expect(after.error).toBeUndefined();
  });

  test("exactly coop-sur's component and its 12 resources disappear", () => {
    const a = byNameMap(after.resources);
    const gone = [...byNameMap(before.resources).keys()].filter((k) => !a.has(k)).map((k) => k.split("::").pop());
    expect(gone.sort()).toEqual(
      ["tenant-coop-sur", ...["vnc-password", "vnc-pw", "console-pw", "vm", "key", "csr", "cert", "firewall", "ipfilter", "tls-crypt-v2", "vpn1", "vpn2"].map((s) => `tenant-coop-sur-${s}`)].sort(),
    );
    expect(after.resources.length).toBe(before.resources.length - 13);
  });

  test("every other tenant's resources keep their names and inputs", () => {
    const b = byNameMap(before.resources);
    const others = after.resources.filter((r) => r.name.startsWith("tenant-"));
    expect(others).toHaveLength(49 * 13);
    for (const r of others) expect(r.inputs).toEqual(b.get(`${r.type}::${r.name}`)?.inputs);
  });

  test("outside the tenants only the reverse zone's PTR (and serial) and coop-sur's certificate figure change: the VPN servers are untouched", () => {
    const b = byNameMap(before.resources);
    const changed = after.resources
      .filter((r) => !r.name.startsWith("tenant-"))
      .filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(b.get(`${r.type}::${r.name}`)?.inputs))
      .map((r) => r.name);
    // monitoring-services carries every tenant's certificate end (components/monitoring.ts): coop-sur's row goes, nothing else of it changes.
    expect(changed.sort()).toEqual(["monitoring-services", "services-setup"]);
    const [c0, c1] = [certRows(before.resources), certRows(after.resources)];
    expect(rowsMissingFrom(c0, c1)).toEqual([tenantCertRow(before.resources, "coop-sur")]);
    expect(rowsMissingFrom(c1, c0)).toEqual([]);
    const mon = (run: ProgramRun) => stdinWithoutCerts(byNameMap(run.resources).get("command:remote:Command::monitoring-services") as Recorded);
    expect(mon(after)).toBe(mon(before));
    const zone = (run: ProgramRun) =>
      (writtenFiles(String(byNameMap(run.resources).get("command:remote:Command::services-setup")?.inputs.stdin)).get("/etc/bind/librerouter/2.0.192.in-addr.arpa.zone")?.content ?? "").split("\n");
    const [z0, z1] = [zone(before), zone(after)];
    expect(z0.filter((l) => !z1.includes(l))).toEqual([expect.stringMatching(/IN\tSOA\t/), "7\tIN\tPTR\tcoop-sur.tenants.minimal.example.net."]);
    expect(z1.filter((l) => !z0.includes(l))).toEqual([expect.stringMatching(/IN\tSOA\t/)]);
    // The trunk NIC carries no `trunks`: bpg parses that field as ";"-separated integers and refused "101-4094".
    const vpn1 = byNameMap(after.resources).get("proxmoxve:index/vmLegacy:VmLegacy::vpn1-vm") as Recorded;
    expect((vpn1.inputs.networkDevices as { trunks?: string }[])[1].trunks).toBeUndefined();
    expect(checkTrunks(vpn1.inputs)).toEqual([]);
  });
});

describe("a bad config", () => {
  test("stops with the ConfigError's message as a RunError (no stack trace) and declares nothing", async () => {
    const raw = readStackFile(ROOT, "minimal") as { tenants: Record<string, { slot: number }> };
    raw.tenants["coop-sur"].slot = 1;
    let expected = "";
    try {
      compileStack(raw, "minimal");
    } catch (e) {
      expected = (e as ConfigError).message;
    }
    expect(expected).toMatch(/^stack "minimal": config has 1 problem \(nothing was created\):\n {2}- librerouter-hosting:tenants\.coop-sur\.slot: /);
    const run = await runProgram("minimal", raw);
    expect(run.error?.message).toBe(expected);
    expect(RunError.isInstance(run.error)).toBe(true);
    expect(run.resources).toEqual([]);
  });

  test("over capacity is refused the same way", async () => {
    const raw = readStackFile(ROOT, "prod") as { hardware: { ramGb: number } };
    raw.hardware.ramGb = 64;
    let expected = "";
    try {
      compileStack(raw, "prod");
    } catch (e) {
      expected = (e as ConfigError).message;
    }
    expect(expected).toMatch(/^stack "prod": config has \d+ problems? \(nothing was created\):/);
    const run = await runProgram("prod", raw);
    expect(run.error?.message).toBe(expected);
    expect(RunError.isInstance(run.error)).toBe(true);
    expect(run.resources).toEqual([]);
  });
});

describe("template.createFromImage", () => {
  test("adds the image download (stored as .raw: Proxmox refuses .img for import content) and a template VM; tenants clone it and wait for it", async () => {
    const raw = readStackFile(ROOT, "minimal") as Record<string, unknown>;
    raw.template = { vmid: 9000, createFromImage: true, imageUrl: "https://images.example.net/librerouter-1.5.img", imageFileName: "librerouter-1.5.raw" };
    const run = await runProgram("minimal", raw);
    expect(run.error).toBeUndefined();
    const map = byNameMap(run.resources);
    expect(map.get("proxmoxve:download/file:File::template-image")?.inputs).toEqual({
      nodeName: "pve1",
      datastoreId: "local",
      contentType: "import",
      url: "https://images.example.net/librerouter-1.5.img",
      fileName: "librerouter-1.5.raw",
    });
    expect(map.get("proxmoxve:index/vmLegacy:VmLegacy::template-vm")?.inputs).toMatchObject({
      vmId: 9000,
      template: true,
      started: false,
      disks: [{ interface: "scsi0", importFrom: "template-image-id", datastoreId: "local-lvm" }],
    });
    expect(map.get("proxmoxve:index/vmLegacy:VmLegacy::tenant-acme-vm")?.inputs.clone).toEqual({ vmId: 9000, full: false, retries: 5 });
    // 12 per tenant, 54 shared (the monitoring's 4 commands: vpn1, vpn2, services, the node), image + template VM
    expect(run.resources.filter((r) => r.custom)).toHaveLength(12 * 50 + 54 + 2);
  });
});

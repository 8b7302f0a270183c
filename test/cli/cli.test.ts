/**
 * The plan and capacity CLIs as users run them (`npx tsx cli/…`): exit codes, key output lines, JSON
 * structure, the markdown PR comment with its SVG, and clean errors (message only, no stack trace).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError } from "../../config/errors";
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";

const ROOT = resolve(__dirname, "../..");
jest.setTimeout(60_000);

function run(cli: "plan" | "capacity", ...args: string[]) {
  const r = spawnSync("npx", ["tsx", `cli/${cli}.ts`, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const noStackTrace = (s: string) => expect(s.split("\n").filter((l) => /^\s+at /.test(l))).toEqual([]);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "lr-cli-"));
  const prod = readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8");
  // The seed's optimal hardware: 256 GB and 12 cores for 500 tenants.
  writeFileSync(join(tmp, "Pulumi.seed.yaml"), prod.replace("    ramGb: 384\n    cpuCores: 24\n", "    ramGb: 256\n"));
  writeFileSync(join(tmp, "Pulumi.bad.yaml"), "config:\n  librerouter-hosting:profile: huge\n  librerouter-hosting:proxmox:\n    endpoint: https://pve.example.net:8006/\n    node: pve1\n  librerouter-hosting:network:\n    publicPools: []\n");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SEED_FAIL = [
  'stack "seed": config has 2 problems (nothing was created):',
  "  - librerouter-hosting:hardware.ramGb: RAM: balloon floors 250.0 GiB + host 8.0 GiB + VPN servers 2.0 GiB + services 1.0 GiB + QEMU overhead 31.4 GiB (503 VMs × 64 MiB) = 292.4 GiB exceed 256 GiB by 36.4 GiB; add RAM (hardware.ramGb) or lower tenantDefaults.memory.minMb",
  "  - librerouter-hosting:hardware.cpuCores: CPU: 505 vCPUs on 12 cores × 2 threads = 21.0 vCPUs per thread (limit 12, assumptions.vcpuPerThreadMax) allows 288; needs 22 cores (hardware.cpuCores) or fewer tenants",
].join("\n");

/** What config/ says about a stack file, computed in-process: the CLI must print exactly this and nothing else. */
function configMessage(dir: string, stack: string): string {
  try {
    buildPlan(readStackFile(dir, stack), stack);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
  }
  throw new Error(`expected a ConfigError for ${stack}`);
}

describe("npm run plan", () => {
  test("minimal (the default): tenant table and capacity verdict, exit 0", () => {
    const r = run("plan");
    expect([r.code, r.err]).toEqual([0, ""]);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe('stack "minimal" (profile minimal): 50 tenants; host 192.0.2.2, vpn1 192.0.2.3, vpn2 192.0.2.4, services 192.0.2.5');
    expect(lines[2].split(/\s+/)).toEqual(["key", "slot", "vmid", "vlan", "private", "public", "ip", "vpn1-udp", "vpn1-tcp", "vpn2-udp", "vpn2-tcp", "vnc", "port"]);
    expect(lines[3].split(/\s+/)).toEqual(["acme", "1", "1001", "101", "10.0.1.0/24", "192.0.2.6", "10.255.0.2", "10.255.64.2", "10.255.128.2", "10.255.192.2", "6001"]);
    expect(lines.filter((l) => /^t\d+ /.test(l))).toHaveLength(48);
    expect(r.out).toContain("\ncapacity: WARN\n  WARN RAM (installer) 400 %: 50 of 50 tenants may be ballooned to 512 MiB");
  });

  test("--format json: the plan and the capacity report", () => {
    const r = run("plan", "--stack", "prod", "--format", "json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(["stack", "profile", "host", "services", "mgmt", "publicPools", "servers", "instances", "tenants", "capacity"]);
    expect([j.stack, j.profile, j.tenants.length, j.instances.length, j.servers.length]).toEqual(["prod", "optimal", 500, 4, 2]);
    expect(j.tenants[499]).toMatchObject({ key: "t500", slot: 500, vmid: 1500, vlan: 600, privateCidr: "10.0.0.0/24", publicIp: "198.51.100.252", vnc: { display: 600, port: 6500 } });
    expect(j.capacity.verdict).toBe("warn");
    expect(j.capacity.lines.map((l: { resource: string }) => l.resource)).toContain("RAM (floors)");
    expect(r.out).not.toMatch(/password|privateKey|BEGIN/i);
  });

  test("an over-capacity stack exits 1 printing only the ConfigError", () => {
    const r = run("plan", "--dir", tmp, "--stack", "seed");
    expect([r.code, r.out, r.err]).toEqual([1, "", `${SEED_FAIL}\n`]);
  });

  test("a bad stack file exits 1 with the exact message and no stack trace", () => {
    const r = run("plan", "--dir", tmp, "--stack", "bad");
    const msg = configMessage(tmp, "bad");
    expect(msg.split("\n").slice(0, 2)).toEqual(['stack "bad": config has 2 problems (nothing was created):', '  - librerouter-hosting:profile: got "huge"; must be one of minimal, optimal, full']);
    expect([r.code, r.out, r.err]).toEqual([1, "", `${msg}\n`]);
    noStackTrace(r.err);
  });

  test("a missing stack and a wrong option: clear messages, no stack trace", () => {
    const missing = run("plan", "--dir", tmp, "--stack", "nope");
    expect([missing.code, missing.out, missing.err]).toEqual([1, "", `${configMessage(tmp, "nope")}\n`]);
    expect(missing.err).toContain("no file Pulumi.nope.yaml in");
    const wrong = run("plan", "--format", "xml");
    expect(wrong.code).toBe(2);
    expect(wrong.err.split("\n")[0]).toBe('--format must be one of table, json; got "xml"');
    noStackTrace(wrong.err);
  });
});

describe("npm run capacity", () => {
  test("one stack: table with every assumption, exit 0", () => {
    const r = run("capacity", "--stack", "full");
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(r.out.split("\n")[0]).toBe('capacity of stack "full" (profile full, 500 tenants): WARN');
    expect(r.out).toMatch(/^WARN {4}power {12}4,250 {4}5,100 {6}W {10}83 %$/m);
    for (const k of ["loadFactor", "hostReserveGb", "qemuOverheadMb", "vcpuPerThreadMax", "cloneMode", "linkedCloneGrowth", "concurrency", "cloudStorageEurPerTbMonth", "installerMinMb"]) {
      expect(r.out).toMatch(new RegExp(`^  assumptions\\.${k} +\\S+ +\\S+ +default `, "m"));
    }
    expect(r.out).toMatch(/^ {2}vpn\.memoryMb +1024 +MiB\/VM +plan /m);
  });

  test("--compare --format json: three reports with the same structure", () => {
    const r = run("capacity", "--compare", "--format", "json");
    expect(r.code).toBe(0);
    const { reports } = JSON.parse(r.out);
    expect(reports.map((x: { stack: string }) => x.stack)).toEqual(["minimal", "prod", "full"]);
    for (const x of reports) {
      expect(Object.keys(x)).toEqual(["stack", "profile", "tenants", "hardware", "hardwareOverridden", "hardwareAssumed", "assumptions", "lines", "money", "findings", "verdict"]);
      for (const l of x.lines) {
        expect(Object.keys(l)).toEqual(["resource", "needed", "available", "unit", "utilisation", "status", "note", "key"]);
        expect(["ok", "warn", "fail"]).toContain(l.status);
        expect(typeof l.needed).toBe("number");
      }
      for (const f of x.findings) expect(Object.keys(f)).toEqual(["topic", "seed", "recomputed"]);
    }
    expect(reports[1].money).toMatchObject({ revenueEurPerMonth: 10000, grossMarginEurPerMonth: 7200, paybackMonths: 2.5 });
  });

  test("--compare --format markdown embeds the SVG and writes it with --svg", () => {
    const svgPath = join(tmp, "chart.svg");
    const r = run("capacity", "--compare", "--format", "markdown", "--svg", svgPath);
    expect(r.code).toBe(0);
    expect(r.out.startsWith("## Capacity\n")).toBe(true);
    const svg = readFileSync(svgPath, "utf8").trimEnd();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
    expect(r.out).toContain(svg);
    expect(r.out).toContain("**minimal** (minimal, 50 tenants): **WARN** · **prod** (optimal, 500 tenants): **WARN** · **full** (full, 500 tenants): **WARN**");
  });

  test("--stack cluster: per-node figures, Ceph and one N-1 line per node; the committed cluster fits (exit 0)", () => {
    // The committed file with shards.tenantsPerShard at 50 (the shard cap is not the sizing's; it does not read it).
    const cluster = readFileSync(join(ROOT, "Pulumi.cluster.yaml"), "utf8").replace(/tenantsPerShard: \d+/, "tenantsPerShard: 50");
    writeFileSync(join(tmp, "Pulumi.cluster.yaml"), cluster);
    const r = run("capacity", "--dir", tmp, "--stack", "cluster");
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(r.out.split("\n")[0]).toBe('capacity of stack "cluster" (profile full, 1500 tenants): WARN');
    expect(r.out).toMatch(/^nodes:\n {2}node +tenants +infra VMs +OSDs +Ceph RAM +RAM floors +RAM +vCPUs +vCPU limit\n {2}pve-a +\d+ +vpn1 +6 +32\.0 GiB +[\d.]+ GiB +512 GiB +\d+ +600$/m);
    for (const n of ["pve-a", "pve-b", "pve-c"]) {
      expect(r.out).toMatch(new RegExp(`^OK +${n}: RAM \\(floors\\) +`, "m"));
      expect(r.out).toMatch(new RegExp(`^OK +N-1 ${n} +1\\.1 +[\\d.]+ +GiB`, "m"));
    }
    expect(r.out).toMatch(/^OK +Ceph \(disk\) +0\.15 +136\.80 +TB/m);
    expect(r.out).toMatch(/^ {2}ceph\.osdMemoryGb +4 +GiB\/OSD +default +Ceph's osd_memory_target default/m);
  });

  test("a stack that does not fit: report printed, each shortfall named on stderr, exit 1", () => {
    const r = run("capacity", "--dir", tmp, "--stack", "seed");
    expect(r.code).toBe(1);
    expect(r.out.split("\n")[0]).toBe('capacity of stack "seed" (profile optimal, 500 tenants): FAIL');
    expect(r.err).toBe(`${SEED_FAIL}\n`);
  });

  test("a bad stack file: exit 1 with the exact message, no stack trace", () => {
    const r = run("capacity", "--dir", tmp, "--stack", "bad");
    const msg = configMessage(tmp, "bad");
    expect(msg.split("\n").slice(0, 2)).toEqual(['stack "bad": config has 2 problems (nothing was created):', '  - librerouter-hosting:profile: got "huge"; must be one of minimal, optimal, full']);
    expect([r.code, r.out, r.err]).toEqual([1, "", `${msg}\n`]);
    noStackTrace(r.err);
  });
});

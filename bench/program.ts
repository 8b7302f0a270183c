/**
 * `npm run bench` (part 1): evaluates the Pulumi program (index.ts) under Pulumi's mock monitor for 50 and
 * 500 tenants, each run in a fresh child process so time and peak RSS belong to that run alone, and next to
 * each the SDK floor measured the same way: a trivial program registering the same number of
 * ComponentResources and mocked custom resources. Prints a table, writes bench/out/program.json.
 * Goals (reported, not asserted): ≤ 8 resources per tenant, ≤ 1.2× the floor, time(500)/time(50) ≤ 11.
 *
 *   tsx bench/program.ts [--stack full] [--runs 3]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readStackFile } from "../config/load";
import type { Registration } from "./mock-program";
import { goalLine, median, table } from "./report";

const ROOT = join(__dirname, "..");
const SIZES = [50, 500] as const;
/** Provider SDKs the program uses: loaded before the clock starts in both the program and the floor. */
const SDKS = ["@pulumi/pulumi", "@muhlba91/pulumi-proxmoxve", "@pulumi/tls", "@pulumi/random", "@pulumi/command"];

interface Sample {
  readonly kind: "program" | "floor";
  readonly tenants: number;
  readonly wallMs: number;
  /** Peak resident set of the whole child process (process.resourceUsage().maxRSS), MiB. */
  readonly maxRssMb: number;
  readonly resources: number;
  readonly components: number;
  readonly customs: number;
}

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

/** Child: one program evaluation, one JSON line on stdout. */
async function child(): Promise<void> {
  const kind = arg("child", "program") as Sample["kind"];
  const tenants = Number(arg("tenants", "50"));
  const stack = arg("stack", "full");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const m of SDKS) require(m);
  const regs: Registration[] = [];
  const t0 = performance.now();
  if (kind === "program") {
    const { installMocks, settle } = await import("./mock-program");
    const raw = readStackFile(ROOT, stack) as Record<string, unknown> & { numberedTenants?: Record<string, unknown> };
    installMocks(stack, { ...raw, numberedTenants: { ...raw.numberedTenants, count: tenants } }, regs);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await settle(require("../index"));
  } else {
    const { floorProgram } = await import("./floor");
    await floorProgram(Number(arg("components", "1")), Number(arg("customs", "0")), regs);
  }
  const wallMs = performance.now() - t0;
  const components = regs.filter((r) => !r.custom).length;
  const sample: Sample = { kind, tenants, wallMs, maxRssMb: process.resourceUsage().maxRSS / 1024, resources: regs.length, components, customs: regs.length - components };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

function spawnChild(args: string[]): Sample {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) throw new Error(`bench child ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as Sample;
}

/** Median of `runs` samples (time and RSS each their own median; counts must agree). */
function measure(runs: number, args: string[]): Sample {
  const samples = Array.from({ length: runs }, () => spawnChild(args));
  if (new Set(samples.map((s) => s.resources)).size !== 1) throw new Error(`resource count differs between runs: ${samples.map((s) => s.resources).join(", ")}`);
  return { ...samples[0], wallMs: median(samples.map((s) => s.wallMs)), maxRssMb: median(samples.map((s) => s.maxRssMb)) };
}

function parent(): void {
  const stack = arg("stack", "full");
  const runs = Number(arg("runs", "3"));
  const rows: { program: Sample; floor: Sample }[] = [];
  for (const n of SIZES) {
    const program = measure(runs, ["--child", "program", "--tenants", String(n), "--stack", stack]);
    const floor = measure(runs, ["--child", "floor", "--tenants", String(n), "--components", String(program.components), "--customs", String(program.customs)]);
    rows.push({ program, floor });
  }
  const [small, large] = rows;
  const added = large.program.tenants - small.program.tenants;
  // Custom resources are what the providers create; each tenant also registers its Tenant component.
  const perTenant = (large.program.customs - small.program.customs) / added;
  const registrationsPerTenant = (large.program.resources - small.program.resources) / added;
  const goals = [
    goalLine("custom resources per added tenant", perTenant, 8, "≤"),
    ...rows.flatMap(({ program, floor }) => [
      goalLine(`time vs floor, ${program.tenants} tenants`, program.wallMs / floor.wallMs, 1.2, "≤×"),
      goalLine(`peak RSS vs floor, ${program.tenants} tenants`, program.maxRssMb / floor.maxRssMb, 1.2, "≤×"),
    ]),
    goalLine("time(500) / time(50)", large.program.wallMs / small.program.wallMs, 11, "≤×"),
  ];
  const out = [
    `Pulumi program under mocks (stack ${stack} with numberedTenants.count changed; median of ${runs} fresh processes each)`,
    table(
      ["tenants", "run", "wall ms", "peak RSS MiB", "resources", "components", "custom", "res/tenant"],
      rows.flatMap(({ program, floor }) =>
        [program, floor].map((s) => [s.tenants, s.kind, s.wallMs.toFixed(0), s.maxRssMb.toFixed(0), s.resources, s.components, s.customs, (s.resources / s.tenants).toFixed(2)]),
      ),
    ),
    `registrations per added tenant (custom + components): ${registrationsPerTenant.toFixed(2)}`,
    "",
    "Goals",
    table(["goal", "measured", "limit", "met"], goals.map((g) => [g.name, g.measured, g.limit, g.met ? "yes" : "NO"])),
  ].join("\n");
  process.stdout.write(`${out}\n`);
  mkdirSync(join(ROOT, "bench/out"), { recursive: true });
  writeFileSync(join(ROOT, "bench/out/program.json"), `${JSON.stringify({ stack, runs, node: process.version, rows, customResourcesPerAddedTenant: perTenant, registrationsPerAddedTenant: registrationsPerTenant, goals }, null, 2)}\n`);
}

if (process.argv.includes("--child")) {
  child().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
} else {
  parent();
}

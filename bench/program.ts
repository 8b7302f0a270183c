/**
 * `npm run bench` (part 1): evaluates the Pulumi program (index.ts) under Pulumi's mock monitor for 50 and
 * 500 tenants, each run in a fresh child process so time and peak RSS belong to that run alone, and next to
 * each three SDK floors measured the same way (bench/floor.ts): `floor` (the same number of components and
 * trivial RandomId resources), `typed` (the same SDK classes in the same numbers, minimal inputs) and
 * `replay` (the program's exact registrations and inputs, no program logic). Runs are interleaved so a busy
 * machine slows all kinds alike; wall and CPU time are both reported. Prints a table, writes
 * bench/out/program.json. Goals (reported, not asserted): ≤ 11 custom resources per tenant (the first
 * round's 8, the two anti-spoofing filters of its public NIC, components/tenant-firewall.ts, and its tls-crypt-v2
 * key's random bytes, components/tenant.ts), ≤ 1.2× the floor,
 * time(500)/time(50) ≤ 11.
 *
 *
 * Then per stack of a sharded service (`--cluster cluster`, the default; `--cluster none` skips it): the core stack
 * and each of its shard stacks as committed, each once in a fresh child process (a shard reading the core's
 * outputs through its StackReference), with its time, peak RSS and resource count as the engine counts it; goal:
 * no stack above 1,000 resources (plan/shards.ts STACK_RESOURCE_LIMIT).
 *
 *   tsx bench/program.ts [--stack full] [--runs 3] [--sizes 50,500] [--cluster cluster|none]
 *   tsx bench/program.ts --child program --tenants 500 [--record /tmp/regs.json]   (one run, one JSON line)
 *   tsx bench/program.ts --child floor|typed|replay …                                (see childArgs below)
 *   tsx bench/program.ts --child stack --stack cluster-s01 [--refs core.json] [--outputs out.json]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStackFile, stacksIn } from "../config/load";
import { parseOptions } from "../lib/args";
import { STACK_RESOURCE_LIMIT } from "../plan/shards";
import type { Registration, StackOutput } from "./mock-program";
import { goalLine, median, table } from "./report";

const ROOT = join(__dirname, "..");
/** Provider SDKs the program uses: loaded before the clock starts in the program and every floor. */
const SDKS = ["@pulumi/pulumi", "@muhlba91/pulumi-proxmoxve", "@pulumi/tls", "@pulumi/random", "@pulumi/command"];
const KINDS = ["program", "floor", "typed", "replay"] as const;
type Kind = (typeof KINDS)[number];

interface Sample {
  readonly kind: Kind;
  readonly tenants: number;
  readonly wallMs: number;
  /** User + system CPU of the child while the clock ran (less sensitive than wall to a busy machine). */
  readonly cpuMs: number;
  /** Peak resident set of the whole child process (process.resourceUsage().maxRSS), MiB. */
  readonly maxRssMb: number;
  readonly resources: number;
  readonly components: number;
  readonly customs: number;
  /** Custom resources per type token. */
  readonly customsByType: Record<string, number>;
}

const options = parseOptions(process.argv.slice(2), {
  child: { type: "string" },
  tenants: { type: "string" },
  stack: { type: "string" },
  record: { type: "string" },
  replay: { type: "string" },
  components: { type: "string" },
  customs: { type: "string" },
  types: { type: "string" },
  runs: { type: "string" },
  sizes: { type: "string" },
  cluster: { type: "string" },
  refs: { type: "string" },
  outputs: { type: "string" },
});
const arg = (name: keyof typeof options, dflt: string): string => options[name] ?? dflt;

/** Child: one evaluation, one JSON line on stdout. */
async function child(): Promise<void> {
  const kind = arg("child", "program") as Kind;
  const tenants = Number(arg("tenants", "50"));
  const stack = arg("stack", "full");
  const record = arg("record", "");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const m of SDKS) require(m);
  const replayed = kind === "replay" ? (JSON.parse(readFileSync(arg("replay", ""), "utf8")) as Registration[]) : [];
  const floor = kind === "program" ? undefined : await import("./floor");
  const mocks = await import("./mock-program");
  const regs: Registration[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  if (kind === "program") {
    const raw = readStackFile(ROOT, stack) as Record<string, unknown> & { numberedTenants?: Record<string, unknown> };
    mocks.installMocks(stack, { ...raw, numberedTenants: { ...raw.numberedTenants, count: tenants } }, regs, { inputs: record !== "" });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await mocks.settle(require("../index"));
  } else if (kind === "floor") {
    await floor!.floorProgram(Number(arg("components", "1")), Number(arg("customs", "0")), regs);
  } else if (kind === "typed") {
    await floor!.typedFloorProgram(Number(arg("components", "1")), JSON.parse(arg("types", "{}")) as Record<string, number>, regs);
  } else {
    await floor!.replayFloorProgram(replayed, regs);
  }
  const cpu = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  if (record) writeFileSync(record, JSON.stringify(regs));
  const components = regs.filter((r) => !r.custom).length;
  const customsByType: Record<string, number> = {};
  for (const r of regs) if (r.custom) customsByType[r.type] = (customsByType[r.type] ?? 0) + 1;
  const sample: Sample = {
    kind,
    tenants,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    resources: regs.length,
    components,
    customs: regs.length - components,
    customsByType,
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

/** One stack of a sharded service, evaluated once. */
interface StackSample {
  readonly stack: string;
  readonly tenants: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  /** As the engine counts them (mock-program.ts engineResourceCount). */
  readonly resources: number;
}

/** Child: one committed stack as it is; `--refs` the outputs its StackReference reads, `--outputs` where to write its own. */
async function stackChild(): Promise<void> {
  const stack = arg("stack", "cluster");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const m of SDKS) require(m);
  const mocks = await import("./mock-program");
  const refs = options.refs ? (JSON.parse(readFileSync(options.refs, "utf8")) as Record<string, Record<string, StackOutput>>) : {};
  const regs: Registration[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  mocks.installMocks(stack, readStackFile(ROOT, stack), regs, { refs });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const outputs = await mocks.settleOutputs(require("../index"));
  const cpu = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  if (options.outputs) writeFileSync(options.outputs, JSON.stringify(outputs));
  const sample: StackSample = {
    stack,
    tenants: regs.filter((r) => r.type === "librerouter:tenant:Tenant").length,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    resources: mocks.engineResourceCount(regs),
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

/** The core stack, then each of its shard stacks (Pulumi.<core>-sNN.yaml), each reading the core's outputs. */
function measureStacks(core: string): StackSample[] {
  const coreOutputs = join(tmpdir(), `lr-bench-core-${process.pid}.json`);
  const refs = join(tmpdir(), `lr-bench-refs-${process.pid}.json`);
  try {
    const first = spawnChild<StackSample>(["--child", "stack", "--stack", core, "--outputs", coreOutputs]);
    writeFileSync(refs, JSON.stringify({ [core]: JSON.parse(readFileSync(coreOutputs, "utf8")) }));
    const shards = stacksIn(ROOT).filter((s) => s.startsWith(`${core}-`) && /-s[0-9]{2,}$/.test(s));
    return [first, ...shards.map((s) => spawnChild<StackSample>(["--child", "stack", "--stack", s, "--refs", refs]))];
  } finally {
    rmSync(coreOutputs, { force: true });
    rmSync(refs, { force: true });
  }
}

function spawnChild<T = Sample>(args: string[]): T {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) throw new Error(`bench child ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as T;
}

/** Median of the samples (time and RSS each their own median; counts must agree). */
function summarize(samples: readonly Sample[]): Sample {
  if (new Set(samples.map((s) => s.resources)).size !== 1) throw new Error(`resource count differs between runs: ${samples.map((s) => s.resources).join(", ")}`);
  return {
    ...samples[0],
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    maxRssMb: median(samples.map((s) => s.maxRssMb)),
  };
}

/** All kinds for one size: one untimed recording run of the program, then `runs` rounds of every kind. */
function measureSize(stack: string, n: number, runs: number): Record<Kind, Sample> {
  const recordFile = join(tmpdir(), `lr-bench-regs-${process.pid}-${n}.json`);
  try {
    const shape = spawnChild(["--child", "program", "--tenants", String(n), "--stack", stack, "--record", recordFile]);
    const childArgs: Record<Kind, string[]> = {
      program: ["--child", "program", "--tenants", String(n), "--stack", stack],
      floor: ["--child", "floor", "--tenants", String(n), "--components", String(shape.components), "--customs", String(shape.customs)],
      typed: ["--child", "typed", "--tenants", String(n), "--components", String(shape.components), "--types", JSON.stringify(shape.customsByType)],
      replay: ["--child", "replay", "--tenants", String(n), "--replay", recordFile],
    };
    const samples: Record<Kind, Sample[]> = { program: [], floor: [], typed: [], replay: [] };
    for (let i = 0; i < runs; i++) for (const k of KINDS) samples[k].push(spawnChild(childArgs[k]));
    const out = Object.fromEntries(KINDS.map((k) => [k, summarize(samples[k])])) as Record<Kind, Sample>;
    for (const k of KINDS) {
      if (out[k].resources !== shape.resources) throw new Error(`${k} registered ${out[k].resources} resources, the program ${shape.resources}`);
    }
    return out;
  } finally {
    rmSync(recordFile, { force: true });
  }
}

function parent(): void {
  const stack = arg("stack", "full");
  const runs = Number(arg("runs", "3"));
  const sizes = arg("sizes", "50,500").split(",").map(Number);
  const rows = sizes.map((n) => measureSize(stack, n, runs));
  const ratio = (r: Record<Kind, Sample>, k: Kind, f: "wallMs" | "cpuMs" | "maxRssMb") => r.program[f] / r[k][f];
  // On a shared machine wall time swings with other load; CPU time is printed next to each time goal.
  const goals = rows.flatMap((r) => [
    goalLine(`time vs floor, ${r.program.tenants} tenants (cpu ${ratio(r, "floor", "cpuMs").toFixed(2)}×)`, ratio(r, "floor", "wallMs"), 1.2, "≤×"),
    goalLine(`peak RSS vs floor, ${r.program.tenants} tenants`, ratio(r, "floor", "maxRssMb"), 1.2, "≤×"),
    // The same registrations and inputs without the program: what the program's own work costs.
    goalLine(`time vs replay floor, ${r.program.tenants} tenants (cpu ${ratio(r, "replay", "cpuMs").toFixed(2)}×)`, ratio(r, "replay", "wallMs"), 1.2, "≤×"),
    goalLine(`peak RSS vs replay floor, ${r.program.tenants} tenants`, ratio(r, "replay", "maxRssMb"), 1.2, "≤×"),
  ]);
  const extra: string[] = [];
  if (rows.length >= 2) {
    const [small, large] = [rows[0].program, rows[rows.length - 1].program];
    const added = large.tenants - small.tenants;
    // Custom resources are what the providers create; each tenant also registers its Tenant component.
    const perTenant = (large.customs - small.customs) / added;
    goals.unshift(goalLine("custom resources per added tenant", perTenant, 11, "≤"));
    goals.push(goalLine(`time(${large.tenants}) / time(${small.tenants}) (cpu ${(large.cpuMs / small.cpuMs).toFixed(2)}×)`, large.wallMs / small.wallMs, 11, "≤×"));
    extra.push(`registrations per added tenant (custom + components): ${((large.resources - small.resources) / added).toFixed(2)}`);
  }
  const cluster = arg("cluster", "cluster");
  const stacks = cluster === "none" ? [] : measureStacks(cluster);
  if (stacks.length) {
    const most = stacks.reduce((a, b) => (b.resources > a.resources ? b : a));
    goals.push(goalLine(`resources in the largest stack of ${cluster} (${most.stack}; ${stacks.length} stacks: the core and its shards)`, most.resources, STACK_RESOURCE_LIMIT, "≤"));
  }
  const perStack = stacks.length
    ? [
        "",
        `Stacks of the sharded service ${cluster} (the committed stack files, each once in a fresh process; a shard reads the core's outputs through its StackReference)`,
        table(
          ["stack", "tenants", "wall ms", "cpu ms", "peak RSS MiB", "resources"],
          stacks.map((s) => [s.stack, s.tenants, s.wallMs.toFixed(0), s.cpuMs.toFixed(0), s.maxRssMb.toFixed(0), s.resources]),
        ),
        `all ${stacks.length} stacks: wall ${stacks.reduce((a, s) => a + s.wallMs, 0).toFixed(0)} ms in sum, slowest ${Math.max(...stacks.map((s) => s.wallMs)).toFixed(0)} ms, peak RSS at most ${Math.max(...stacks.map((s) => s.maxRssMb)).toFixed(0)} MiB`,
      ]
    : [];
  const out = [
    `Pulumi program under mocks (stack ${stack} with numberedTenants.count changed; median of ${runs} fresh processes each, kinds interleaved)`,
    table(
      ["tenants", "run", "wall ms", "cpu ms", "peak RSS MiB", "resources", "components", "custom", "wall / program"],
      rows.flatMap((r) =>
        KINDS.map((k) => {
          const s = r[k];
          return [s.tenants, s.kind, s.wallMs.toFixed(0), s.cpuMs.toFixed(0), s.maxRssMb.toFixed(0), s.resources, s.components, s.customs, (s.wallMs / r.program.wallMs).toFixed(2)];
        }),
      ),
    ),
    ...extra,
    "floor: trivial RandomId resources; typed: the program's SDK classes, minimal inputs; replay: the program's registrations and inputs, no program logic",
    ...perStack,
    "",
    "Goals",
    table(["goal", "measured", "limit", "met"], goals.map((g) => [g.name, g.measured, g.limit, g.met ? "yes" : "NO"])),
  ].join("\n");
  process.stdout.write(`${out}\n`);
  mkdirSync(join(ROOT, "bench/out"), { recursive: true });
  writeFileSync(join(ROOT, "bench/out/program.json"), `${JSON.stringify({ stack, runs, node: process.version, rows, stacks, goals }, null, 2)}\n`);
}

if (process.argv.includes("--child")) {
  (arg("child", "program") === "stack" ? stackChild() : child()).catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
} else {
  parent();
}

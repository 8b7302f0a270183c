/**
 * scripts/acceptance.sh cannot run here (no Pulumi CLI, no Proxmox): it is shellcheck-clean, it refuses
 * clearly, before creating anything, when a prerequisite or an input is missing, and the workflow that runs
 * it passes it exactly the inputs it reads. What needs a real host (up, the client, the preview, teardown) is
 * checked by running it there; its JSON decisions are tested in preview-json.test.ts and stack.test.ts.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { INPUTS } from "../../acceptance/stack";
import { shellcheck } from "../tools/shellcheck";

const ROOT = resolve(__dirname, "../..");
const SCRIPT = join(ROOT, "scripts/acceptance.sh");
jest.setTimeout(60_000);

const which = (p: string) => spawnSync("sh", ["-c", `command -v ${p}`], { encoding: "utf8" }).stdout.trim();
const AS_ROOT = process.getuid?.() === 0;
const PROGRAMS = ["pulumi", "ssh", "openvpn", "ip", "iptables", "sysctl", "socat", "ping", "sudo"];

let bin: string;
let sandbox: string;
beforeAll(() => {
  sandbox = mkdtempSync(join(tmpdir(), "lr-acc-sh-"));
  bin = join(sandbox, "bin");
  spawnSync("mkdir", [bin]);
  // Only what the prerequisite check itself runs; every program it looks for is absent until stubbed.
  for (const p of ["bash", "cat", "dirname", "sed", "node"]) symlinkSync(which(p), join(bin, p));
});
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

function stub(name: string, body: string) {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

const FULL = {
  ACC_ENDPOINT: "https://pve-test.example.net:8006/",
  ACC_NODE: "pve-test",
  ACC_PUBLIC_POOL: "203.0.113.0/28",
  ACC_PUBLIC_GATEWAY: "203.0.113.1",
  PVE_PASSWORD: "not-a-real-password",
  PVE_SSH_PRIVATE_KEY: "not-a-real-key",
  ACC_SSH_HOST_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestHostKey",
};

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(SCRIPT, args, { cwd: ROOT, encoding: "utf8", env: { PATH: bin, HOME: sandbox, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("scripts/acceptance.sh is shellcheck-clean (every optional check)", () => {
  expect(shellcheck(readFileSync(SCRIPT, "utf8")).report).toBe("");
});

describe("refuses before creating anything", () => {
  // No stack file appears (others may add files to the work tree meanwhile: look only for ours).
  const stackFiles = () => readdirSync(ROOT).filter((f) => f.startsWith("Pulumi.acceptance-"));
  const before = stackFiles();
  afterEach(() => expect(stackFiles()).toEqual(before));

  test("nothing installed, nothing set: one line per missing program, secret and input", () => {
    const r = run(["--check"], {});
    expect(r.code).toBe(2);
    expect(r.err.split("\n")).toEqual([
      "acceptance: cannot start (nothing was created):",
      "  - missing programs: pulumi ssh openvpn ip iptables sysctl socat ping (Pulumi CLI: https://www.pulumi.com/docs/install/; Debian: apt-get install openssh-client openvpn iproute2 iptables procps socat iputils-ping)",
      "  - PVE_PASSWORD is not set: export root@pam's password (root@pam with a password is what VM args need)",
      "  - no SSH key: pass --ssh-key FILE (ACC_SSH_KEY_FILE) or put the key text in PVE_SSH_PRIVATE_KEY",
      ...(AS_ROOT ? [] : ["  - needs root or passwordless sudo: the client runs in a network namespace (sudo -n true failed)"]),
      "  - --endpoint (ACC_ENDPOINT) is required; e.g. https://pve-test.example.net:8006/",
      "  - --node (ACC_NODE) is required; e.g. pve1",
      "  - --public-pool (ACC_PUBLIC_POOL) is required; e.g. 203.0.113.0/28",
      "  - --public-gateway (ACC_PUBLIC_GATEWAY) is required; e.g. 203.0.113.1",
      "",
    ]);
  });

  test("every program present, pulumi not logged in: says how to log in", () => {
    for (const p of PROGRAMS) stub(p, p === "pulumi" ? 'if [ "$1" = whoami ]; then exit 255; fi\nexit 0' : "exit 0");
    const r = run(["--check", "--ssh-key", "/nonexistent/key"], { ...FULL, PVE_SSH_PRIVATE_KEY: "" });
    expect(r.code).toBe(2);
    expect(r.err.split("\n")).toEqual([
      "acceptance: cannot start (nothing was created):",
      "  - --ssh-key (ACC_SSH_KEY_FILE): cannot read /nonexistent/key",
      "  - pulumi is not logged in: run pulumi login (Pulumi Cloud) or pulumi login file://… / s3://…; a passphrase backend also needs PULUMI_CONFIG_PASSPHRASE",
      "",
    ]);
  });

  test("everything in place: --check says so and creates nothing", () => {
    for (const p of PROGRAMS) stub(p, "exit 0");
    const r = run(["--check", "--insecure", "--vmid-base", "7100"], FULL);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({
      code: 0,
      out: "acceptance: prerequisites and inputs OK (host pve-test.example.net); nothing was created (--check)\n",
      err: "",
    });
  });

  test("a flag without its value, and an unknown argument, are usage errors", () => {
    expect(run(["--node"], FULL).err).toBe("acceptance: --node needs a value (see --help)\n");
    const r = run(["pve1"], FULL);
    expect(r.code).toBe(2);
    expect(r.err.split("\n").slice(-2)).toEqual(["acceptance: unexpected argument pve1", ""]);
  });
});

describe(".github/workflows/acceptance.yml", () => {
  interface Step { readonly uses?: string; readonly run?: string; readonly env?: Record<string, string> }
  const wf = parse(readFileSync(join(ROOT, ".github/workflows/acceptance.yml"), "utf8")) as {
    on: { workflow_dispatch: { inputs: Record<string, { required: boolean }> } };
    permissions: Record<string, string>;
    concurrency: { group: string; "cancel-in-progress": boolean };
    jobs: { acceptance: { "runs-on": string; steps: Step[] } };
  };
  const step = wf.jobs.acceptance.steps.find((s) => s.run?.includes("scripts/acceptance.sh")) as Step;

  test("runs by hand only, read-only, on a self-hosted runner, never cancelled mid-run (teardown)", () => {
    expect(Object.keys(wf.on)).toEqual(["workflow_dispatch"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(wf.concurrency["cancel-in-progress"]).toBe(false);
    expect(wf.jobs.acceptance["runs-on"]).toBe("${{ vars.ACCEPTANCE_RUNNER || 'self-hosted' }}");
    expect(wf.jobs.acceptance.steps.map((s) => s.uses ?? s.run)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "npm ci --no-audit --no-fund", "pulumi/actions@v6", "./scripts/acceptance.sh"]);
  });

  test("passes inputs and secrets as environment only, each one a variable the script reads", () => {
    const env = step.env ?? {};
    const known = new Set([...Object.values(INPUTS).map((i) => i.env), "ACC_KEEP", "ACC_ORG", "PVE_PASSWORD", "PVE_SSH_PRIVATE_KEY", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const script = readFileSync(SCRIPT, "utf8") + readFileSync(join(ROOT, "acceptance/stack.ts"), "utf8");
    for (const k of Object.keys(env).filter((k) => !k.startsWith("PULUMI_"))) expect(script).toContain(k);
    // Every required input of the script is a required input of the workflow.
    const required = Object.values(INPUTS).filter((i) => i.required).map((i) => i.flag.slice(2));
    expect(required.filter((k) => wf.on.workflow_dispatch.inputs[k]?.required !== true)).toEqual([]);
    expect(Object.entries(env).filter(([, v]) => v.includes("secrets.")).map(([k]) => k)).toEqual(["PVE_PASSWORD", "PVE_SSH_PRIVATE_KEY", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    expect(step.run).not.toMatch(/\$\{\{/);
  });
});


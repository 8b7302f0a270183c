/** Reading stack files: bad YAML, missing files and stack names are ConfigErrors with exact text; secrets and
 * other namespaces never reach the config. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../config/errors";
import { readStackFile, stackConfigFromYaml, stacksIn } from "../../config/load";

function thrown(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("stackConfigFromYaml", () => {
  it("keeps this project's keys, drops secrets and other namespaces", () => {
    const text = [
      "config:",
      "  librerouter-hosting:profile: minimal",
      "  librerouter-hosting:proxmoxPassword: { secure: AAABAhidden }",
      "  librerouter-hosting:sshPrivateKey: { secure: AAABAkey }",
      "  proxmoxve:endpoint: https://elsewhere:8006/",
      "  tenants: { acme: { slot: 1 } }",
    ].join("\n");
    expect(stackConfigFromYaml(text, "s")).toEqual({ profile: "minimal", tenants: { acme: { slot: 1 } } });
  });

  it("returns an empty object for a file without config", () => {
    expect(stackConfigFromYaml("encryptionsalt: v1:abc\n", "s")).toEqual({});
  });

  it.each([
    [
      "an unclosed flow list",
      "config:\n  librerouter-hosting:vpn:\n    keepalive: [10, 30\n  librerouter-hosting:profile: minimal\n",
      '(file): Pulumi.s.yaml is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 4, column 3; fix the file there (indent with spaces, close every bracket and quote)',
    ],
    [
      "a tab used for indentation",
      "config:\n\tlibrerouter-hosting:profile: minimal\n",
      "(file): Pulumi.s.yaml is not valid YAML: Tabs are not allowed as indentation at line 2, column 1; fix the file there (indent with spaces, close every bracket and quote)",
    ],
    [
      "config that is a list",
      "config:\n  - librerouter-hosting:profile: minimal\n",
      '(file): Pulumi.s.yaml: "config" must be a mapping of keys to values',
    ],
  ])("rejects %s with one exact issue", (_name, text, line) => {
    const e = thrown(() => stackConfigFromYaml(text, "s"));
    expect(e.message).toBe(`stack "s": config has 1 problem (nothing was created):\n  - librerouter-hosting:${line}`);
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});

describe("readStackFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "lr-stacks-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: x\n");
  writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  librerouter-hosting:profile: optimal\n");
  writeFileSync(join(dir, "Pulumi.dev.yaml"), "config: {}\n");

  it("reads an existing stack", () => {
    expect(readStackFile(dir, "prod")).toEqual({ profile: "optimal" });
  });

  it("lists the stacks present, sorted, ignoring Pulumi.yaml", () => {
    expect(stacksIn(dir)).toEqual(["dev", "prod"]);
    expect(stacksIn(join(dir, "no-such-dir"))).toEqual([]);
  });

  it("names the stacks that exist when the file is missing", () => {
    const e = thrown(() => readStackFile(dir, "staging"));
    expect(e.message).toBe(
      `stack "staging": config has 1 problem (nothing was created):\n  - librerouter-hosting:(stack): no file Pulumi.staging.yaml in ${dir} (stacks here: dev, prod); pass one of those with --stack, or create Pulumi.staging.yaml`,
    );
  });

  it("says so when a directory has no stack files at all", () => {
    const empty = mkdtempSync(join(tmpdir(), "lr-empty-"));
    const e = thrown(() => readStackFile(empty, "prod"));
    expect(e.message).toBe(`stack "prod": config has 1 problem (nothing was created):\n  - librerouter-hosting:(stack): no file Pulumi.prod.yaml in ${empty} (no stack files here); pass one of those with --stack, or create Pulumi.prod.yaml`);
  });

  it("refuses a stack name that could escape the directory", () => {
    const e = thrown(() => readStackFile(dir, "../etc/passwd"));
    expect(e.message).toBe(`stack "../etc/passwd": config has 1 problem (nothing was created):\n  - librerouter-hosting:(stack): "../etc/passwd" is not a stack name; use letters, digits, '-', '_' or '.'`);
  });
});

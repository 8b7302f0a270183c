/**
 * The Pulumi CLI's own config rules, which run before the program does (so the program's zod checks never see a
 * stack the CLI refuses). Modelled on pulumi/pulumi pkg/workspace/config.go (formerly sdk/go/common/workspace):
 * - mergeConfig: a key declared in Pulumi.yaml in the project's namespace, with neither `default` nor `value`, that
 *   the stack does not set, is missing; all of them fail together with missingStackConfigurationKeysError
 *   ("Stack '<s>' is missing configuration values 'a' and 'b'"). `type` plays no part in this check.
 * - validateStackConfigValues → validateStackConfigValue, called only for an explicitly typed key
 *   (`projectConfigType.IsExplicitlyTyped()`): a key declared `secret: true` must be a `secure:` value
 *   ("must be encrypted as it's secret"), and the value must pass ValidateConfigValue
 *   (sdk/go/common/workspace/project.go: string, integer, boolean, object, array). A `secret: true` key without
 *   a `type` is never checked: the CLI then takes a plain-text secret.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { readStackFile } from "../../config/load";
import { stackCapacity } from "../../stack/compile";

const ROOT = join(__dirname, "../..");

interface ProjectConfigType {
  type?: string;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
}
interface Project {
  name: string;
  config: Record<string, ProjectConfigType>;
}

const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as Project;
const STACKS = readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

function stackFile(stack: string): Record<string, unknown> {
  return ((parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> }).config ?? {}) as Record<string, unknown>;
}

/** formatMissingKeys: sorted, "'a'", "'a' and 'b'", "'a', 'b' and 'c'". */
function formatMissingKeys(keys: string[]): string {
  if (keys.length === 1) return `'${keys[0]}'`;
  const k = [...keys].sort();
  return k.map((x, i) => (i === k.length - 1 ? `and '${x}'` : i === k.length - 2 ? `'${x}' ` : `'${x}', `)).join("");
}

const isSecure = (v: unknown) => typeof v === "object" && v !== null && typeof (v as { secure?: unknown }).secure === "string";

/** ValidateConfigValue for the scalar and object types (stack values arrive as YAML-decoded values). */
function validType(type: string, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && /^[+-]?\d+$/.test(v));
    case "boolean":
      return typeof v === "boolean" || v === "true" || v === "false";
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    case "array":
      return Array.isArray(v);
    default:
      throw new Error(`cli-rules: type ${type} is not modelled`);
  }
}

/** The error `pulumi preview` / `up` stops with before running the program, or undefined. */
export function cliConfigError(p: Project, stack: string, config: Record<string, unknown>): string | undefined {
  const ns = (key: string) => (key.includes(":") ? key : `${p.name}:${key}`);
  const keys = Object.keys(p.config).sort();
  const missing = keys.filter((k) => {
    const t = p.config[k];
    return !(ns(k) in config) && t.default === undefined && t.value === undefined && ns(k).startsWith(`${p.name}:`);
  });
  if (missing.length) return `Stack '${stack}' is missing configuration value${missing.length > 1 ? "s" : ""} ${formatMissingKeys(missing)}`;
  for (const k of keys) {
    const t = p.config[k];
    const v = config[ns(k)];
    if (v === undefined || t.type === undefined) continue;
    if (t.secret && !isSecure(v)) return `Stack '${stack}' with configuration key '${k}' must be encrypted as it's secret`;
    if (!isSecure(v) && !validType(t.type, v)) return `Stack '${stack}' with configuration key '${k}' must be of type '${t.type}'`;
  }
  return undefined;
}

const SECRETS = ["proxmoxPassword", "sshPrivateKey"];
/** What `pulumi config set --secret <key>` writes into the stack file. */
const withSecrets = (config: Record<string, unknown>) => ({ ...config, ...Object.fromEntries(SECRETS.map((k) => [`${project.name}:${k}`, { secure: "v1:AAAAAAAAAAAAAAAA:ciphertext" }])) });

describe("the CLI's required-config rule (pkg/workspace/config.go mergeConfig)", () => {
  test("the committed stacks are minimal, prod, full and cluster, and cluster's shard stacks (one per shard with a tenant)", () => {
    const shards = stackCapacity(readStackFile(ROOT, "cluster"), "cluster").plan.shards?.names ?? [];
    expect(shards).toHaveLength(30);
    expect(STACKS).toEqual(["cluster", ...shards.map((s) => `cluster-${s}`), "full", "minimal", "prod"]);
  });

  test.each(STACKS)("Pulumi.%s.yaml lacks exactly the two secrets, which ops set with `pulumi config set --secret`", (stack) => {
    expect(cliConfigError(project, stack, stackFile(stack))).toBe(`Stack '${stack}' is missing configuration values 'proxmoxPassword' and 'sshPrivateKey'`);
  });

  test.each(STACKS)("Pulumi.%s.yaml with the two secrets set passes every CLI check", (stack) => {
    expect(cliConfigError(project, stack, withSecrets(stackFile(stack)))).toBeUndefined();
  });

  test("every project key without a default is set by every stack, or is one of the two secrets", () => {
    const required = Object.entries(project.config)
      .filter(([, t]) => t.default === undefined && t.value === undefined)
      .map(([k]) => k);
    const unset = required.filter((k) => !SECRETS.includes(k) && STACKS.some((s) => !(`${project.name}:${k}` in stackFile(s))));
    expect(unset).toEqual([]);
  });

  test("the rule catches the missing defaults: without them, the CLI refuses the minimal stack naming each key", () => {
    const bare: Project = { ...project, config: Object.fromEntries(Object.entries(project.config).map(([k, t]) => [k, k === "tenants" ? t : { ...t, default: undefined }])) };
    expect(cliConfigError(bare, "minimal", withSecrets(stackFile("minimal")))).toBe(
      "Stack 'minimal' is missing configuration values 'assumptions', 'bans', 'consoles', 'ha', 'hardware', 'monitoring', 'nodes', 'placement', 'sdn', 'services', 'shards', 'template' and 'tenantDefaults'",
    );
  });

  test("a plain-text secret and a wrongly typed value are refused with the CLI's messages", () => {
    const config = withSecrets(stackFile("minimal"));
    expect(cliConfigError(project, "minimal", { ...config, [`${project.name}:sshPrivateKey`]: "-----BEGIN OPENSSH PRIVATE KEY-----" })).toBe(
      "Stack 'minimal' with configuration key 'sshPrivateKey' must be encrypted as it's secret",
    );
    expect(cliConfigError(project, "minimal", { ...config, [`${project.name}:profile`]: { name: "minimal" } })).toBe("Stack 'minimal' with configuration key 'profile' must be of type 'string'");
  });
});

describe("the CLI itself insists on encrypted secrets", () => {
  const plain = { ...withSecrets(stackFile("minimal")), [`${project.name}:proxmoxPassword`]: "hunter2" };

  test("each secret key is declared with a type, so the CLI checks `secret: true`", () => {
    expect(SECRETS.map((k) => [k, project.config[k].type, project.config[k].secret])).toEqual(SECRETS.map((k) => [k, "string", true]));
    expect(cliConfigError(project, "minimal", plain)).toBe("Stack 'minimal' with configuration key 'proxmoxPassword' must be encrypted as it's secret");
  });

  test("without the type the CLI would take the plain-text secret (why the type is there)", () => {
    const untyped: Project = { ...project, config: { ...project.config, proxmoxPassword: { ...project.config.proxmoxPassword, type: undefined } } };
    expect(cliConfigError(untyped, "minimal", plain)).toBeUndefined();
  });
});

describe("secrets in committed stack files", () => {
  test("the project declares exactly the two secrets, secret and without a default", () => {
    const declared = Object.entries(project.config).filter(([, t]) => t.secret);
    expect(declared.map(([k, t]) => [k, t.default, t.value])).toEqual(SECRETS.map((k) => [k, undefined, undefined]));
  });

  test.each(STACKS)("Pulumi.%s.yaml holds each secret key either not at all or as a `secure:` value", (stack) => {
    const config = stackFile(stack);
    for (const k of SECRETS) {
      const v = config[`${project.name}:${k}`];
      expect([k, v === undefined || isSecure(v)]).toEqual([k, true]);
    }
  });

  test("README step 3 tells ops to set both with `pulumi config set --secret`", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const k of SECRETS) expect(readme).toMatch(new RegExp(`pulumi config set --secret ${k}\\b`));
  });
});

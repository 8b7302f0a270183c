/** What a stack file may hold beyond the schema: namespaces, secrets only encrypted, YAML merge keys; exact messages. */
import { ConfigError } from "../../config/errors";
import { stackConfigFromYaml } from "../../config/load";

/** The ConfigError `stackConfigFromYaml` throws for `lines` (fails the test if there is none). */
function refusal(lines: string[], stack = "s"): ConfigError {
  try {
    stackConfigFromYaml(lines.join("\n"), stack);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("keys under a namespace nothing reads", () => {
  it.each([
    ["librerouter:tenants", "librerouter", "tenants"],
    ["librerouter-hostng:network", "librerouter-hostng", "network"],
    ["proxmox:endpoint", "proxmox", "endpoint"],
  ])("%s is refused with the spelling to use", (k, ns, key) => {
    const e = refusal(["config:", "  librerouter-hosting:profile: minimal", `  ${k}: {}`]);
    expect(e.issues).toEqual([
      { key: "(top level)", message: `key "${k}" is under namespace "${ns}", which nothing in this program reads, so it would be ignored; write it as "librerouter-hosting:${key}" (or "${key}": a key without a namespace is the project's)` },
    ]);
  });

  it("Pulumi's own and the providers' namespaces are allowed (and not part of the plan)", () => {
    const text = ["config:", "  pulumi:tags: { team: ops }", "  proxmoxve:insecure: true", "  command:x: 1", "  tls:y: 2", "  random:z: 3", "  profile: minimal"].join("\n");
    expect(stackConfigFromYaml(text, "s")).toEqual({ profile: "minimal" });
  });

  it("the same key with and without the namespace is refused", () => {
    const e = refusal(["config:", "  profile: minimal", "  librerouter-hosting:profile: full"]);
    expect(e.issues).toEqual([{ key: "profile", message: 'is set twice (as "profile" and "librerouter-hosting:profile"); keep one' }]);
  });
});

describe("secrets written in plain text", () => {
  it.each([
    ["librerouter-hosting:proxmoxPassword: hunter2-secret", "proxmoxPassword"],
    ["proxmoxPassword: hunter2-secret", "proxmoxPassword"],
    ["librerouter-hosting:sshPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY----- hunter2-secret'", "sshPrivateKey"],
    ["sshPrivateKey: { value: hunter2-secret }", "sshPrivateKey"],
    ["proxmoxPassword: { secure: 12 }  # hunter2-secret", "proxmoxPassword"],
  ])("%s is refused naming `pulumi config set --secret`, without echoing the value", (line, key) => {
    const e = refusal(["config:", "  profile: minimal", `  ${line}`], "prod");
    expect(e.message).toBe(
      [
        'stack "prod": config has 1 problem (nothing was created):',
        `  - librerouter-hosting:${key}: is written in plain text in Pulumi.prod.yaml; delete that line, set it with \`pulumi config set --secret ${key}\` (which stores it encrypted), and change it: it was in clear`,
      ].join("\n"),
    );
    expect(e.message).not.toContain("hunter2");
  });

  it("both in clear: both named", () => {
    const e = refusal(["config:", "  proxmoxPassword: a", "  sshPrivateKey: b"]);
    expect(e.issues.map((i) => i.key)).toEqual(["proxmoxPassword", "sshPrivateKey"]);
  });

  it("encrypted values are accepted and left out", () => {
    const text = ["config:", "  profile: minimal", "  proxmoxPassword: { secure: AAABAhidden }", "  librerouter-hosting:sshPrivateKey: { secure: AAABAkey }"].join("\n");
    expect(stackConfigFromYaml(text, "s")).toEqual({ profile: "minimal" });
  });
});

describe("YAML merge keys", () => {
  it("a `<<: *base` merge key is applied, as the Pulumi CLI applies it", () => {
    const text = [
      "config:",
      "  profile: minimal",
      "  tenants:",
      "    acme: &small { slot: 1, cores: 1, diskGb: 8 }",
      "    beta:",
      "      <<: *small",
      "      slot: 2",
    ].join("\n");
    expect(stackConfigFromYaml(text, "s")).toEqual({ profile: "minimal", tenants: { acme: { slot: 1, cores: 1, diskGb: 8 }, beta: { slot: 2, cores: 1, diskGb: 8 } } });
  });
});

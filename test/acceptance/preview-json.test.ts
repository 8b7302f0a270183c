/**
 * The acceptance run's "add a tenant" verdict on `pulumi preview --json` output. The samples follow
 * pulumi/pulumi pkg/display/json.go (PreviewDigest/PreviewStep/PropertyDiff): a clean add, one where another
 * tenant's command updates, one where a shared command is replaced (a replaced command runs its old delete script last).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ADD_TENANT_UPDATES,
  asDigest,
  changedProps,
  checkAddTenantPreview,
  formatCheck,
  parseUrn,
  tenantOf,
  type AddTenantExpectation,
  type PreviewDigest,
} from "../../acceptance/preview-json";

const sample = (f: string): PreviewDigest => asDigest(JSON.parse(readFileSync(join(__dirname, "samples", f), "utf8")));
const STACK = "acceptance-20260101-120000";
const EXP: AddTenantExpectation = { stack: STACK, project: "librerouter-hosting", newTenant: "acc-c", existingTenants: ["acc-a", "acc-b"], allowedUpdates: ADD_TENANT_UPDATES };
const U = (q: string, n: string) => `urn:pulumi:${STACK}::librerouter-hosting::${q}::${n}`;

describe("parseUrn (sdk/go/common/resource/urn/urn.go)", () => {
  it("splits stack, project, parent types, type and name", () => {
    expect(parseUrn(U("librerouter:tenant:Tenant$proxmoxve:index/vmLegacy:VmLegacy", "tenant-acc-c-vm"))).toEqual({
      stack: STACK,
      project: "librerouter-hosting",
      type: "proxmoxve:index/vmLegacy:VmLegacy",
      parentTypes: ["librerouter:tenant:Tenant"],
      name: "tenant-acc-c-vm",
    });
  });
  it("keeps a name that contains '::' whole, as urn.Name() does", () => {
    expect(parseUrn(U("pulumi:providers:proxmoxve", "proxmox::x")).name).toBe("proxmox::x");
  });
  it("refuses what is not a URN, naming the value", () => {
    expect(() => parseUrn("tenant-acc-c-vm")).toThrow('not a Pulumi URN (no "urn:pulumi:" prefix): "tenant-acc-c-vm"');
    expect(() => parseUrn("urn:pulumi:s::p::t")).toThrow("want urn:pulumi:<stack>::<project>::<type>::<name>");
  });
});

describe("tenantOf", () => {
  const T = "librerouter:tenant:Tenant";
  it("picks the longest known key when keys prefix each other", () => {
    expect(tenantOf(parseUrn(U(`${T}$command:remote:Command`, "tenant-a-b-vpn1")), ["a", "a-b"])).toBe("a-b");
    expect(tenantOf(parseUrn(U(`${T}$command:remote:Command`, "tenant-a-vpn1")), ["a", "a-b"])).toBe("a");
  });
  it("a shared resource with a tenant-like name is nobody's: only the Tenant component and its children count", () => {
    expect(tenantOf(parseUrn(U("librerouter:services:CommonServices$command:remote:Command", "tenant-acc-a-x")), ["acc-a"])).toBeUndefined();
  });
  it("a Tenant resource whose key the stack does not know is still reported as a tenant's", () => {
    expect(tenantOf(parseUrn(U(T, "tenant-zz")), ["acc-a"])).toBe("zz");
  });
});

describe("checkAddTenantPreview", () => {
  it("passes a preview that creates only acc-c's resources and updates services-setup's stdin", () => {
    const r = checkAddTenantPreview(sample("add-tenant-ok.json"), EXP);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.changes).toEqual([
      "+ create tenant-acc-c (librerouter:tenant:Tenant)",
      "+ create tenant-acc-c-vnc-password (random:index/randomPassword:RandomPassword)",
      "+ create tenant-acc-c-vnc-pw (proxmoxve:index/fileLegacy:FileLegacy)",
      "+ create tenant-acc-c-vm (proxmoxve:index/vmLegacy:VmLegacy)",
      "+ create tenant-acc-c-key (tls:index/privateKey:PrivateKey)",
      "+ create tenant-acc-c-csr (tls:index/certRequest:CertRequest)",
      "+ create tenant-acc-c-cert (tls:index/locallySignedCert:LocallySignedCert)",
      "+ create tenant-acc-c-vpn1 (command:remote:Command)",
      "+ create tenant-acc-c-vpn2 (command:remote:Command)",
      "~ update services-setup (command:remote:Command) [stdin]: the reverse-DNS zone gains the new tenant's PTR record",
    ]);
  });

  it("fails when another tenant's resource updates, naming it and the tenant", () => {
    const r = checkAddTenantPreview(sample("other-tenant-touched.json"), EXP);
    expect(r.problems).toEqual([
      "tenant-acc-a-vpn1 (command:remote:Command) would update (changed: stdin): it is tenant acc-a's, and adding acc-c must not change another tenant",
    ]);
    expect(r.ok).toBe(false);
  });

  it("fails on a replacement, with its replaceReasons, and on the changeSummary count", () => {
    const r = checkAddTenantPreview(sample("replace.json"), EXP);
    expect(r.problems).toEqual([
      "host-console-firewall (command:remote:Command) would be replaced (replaceReasons: triggers; changed: stdin, triggers); adding a tenant must only create its own resources",
      "changeSummary counts 1 replace: nothing may be replaced when a tenant is added",
    ]);
    expect(formatCheck(r, EXP).split("\n").slice(0, 3)).toEqual([
      "preview: adding tenant acc-c is NOT safe (2 problems):",
      "  ✗ host-console-firewall (command:remote:Command) would be replaced (replaceReasons: triggers; changed: stdin, triggers); adding a tenant must only create its own resources",
      "  ✗ changeSummary counts 1 replace: nothing may be replaced when a tenant is added",
    ]);
  });

  const ok = sample("add-tenant-ok.json");
  const withSteps = (extra: PreviewDigest["steps"], summary?: PreviewDigest["changeSummary"]): PreviewDigest => ({
    ...ok,
    steps: [...(ok.steps ?? []), ...(extra ?? [])],
    ...(summary ? { changeSummary: summary } : {}),
  });

  it("fails on a delete of a tenant VM (the step the JSON shows for a removed resource)", () => {
    const r = checkAddTenantPreview(withSteps([{ op: "delete", urn: U("librerouter:tenant:Tenant$proxmoxve:index/vmLegacy:VmLegacy", "tenant-acc-b-vm") }], { create: 9, update: 1, delete: 1 }), EXP);
    expect(r.problems).toEqual([
      "tenant-acc-b-vm (proxmoxve:index/vmLegacy:VmLegacy) would be deleted: tenant acc-b's resource; adding a tenant must only create its own resources",
      "changeSummary counts 1 delete: nothing may be deleted when a tenant is added",
    ]);
  });

  it("fails on a shared resource created, an unlisted update, and a listed update of another property", () => {
    const cmd = "librerouter:vpn:OpenVpnServer$command:remote:Command";
    const r = checkAddTenantPreview(
      {
        ...ok,
        steps: [
          ...(ok.steps ?? []).filter((s) => !s.urn.endsWith("::services-setup")),
          { op: "create", urn: U("librerouter:host:ProxmoxHost$command:remote:Command", "host-extra") },
          { op: "update", urn: U(cmd, "vpn1-setup"), diffReasons: ["stdin"] },
          { op: "update", urn: U("librerouter:services:CommonServices$command:remote:Command", "services-setup"), diffReasons: ["connection"], detailedDiff: { "connection.host": { kind: "update", inputDiff: true } } },
        ],
      },
      EXP,
    );
    expect(r.problems).toEqual([
      "host-extra (command:remote:Command) would be created, but it is not tenant acc-c's: adding a tenant must not create shared resources",
      "vpn1-setup (command:remote:Command) would update (changed: stdin): only services-setup may update when a tenant is added",
      "services-setup (command:remote:Command) would update connection changed; only stdin may change (the reverse-DNS zone gains the new tenant's PTR record)",
    ]);
  });

  it("fails when the added tenant is not in the preview, or services-setup does not update", () => {
    const r = checkAddTenantPreview({ steps: [(ok.steps ?? [])[0]], changeSummary: { same: 50 } }, EXP);
    expect(r.problems).toEqual([
      "tenant-acc-c (librerouter:tenant:Tenant) is not created: the preview does not add tenant acc-c (is it in the stack config?)",
      "tenant-acc-c-vm (proxmoxve:index/vmLegacy:VmLegacy) is not created: the preview does not add tenant acc-c (is it in the stack config?)",
      "services-setup does not update, but it must: the reverse-DNS zone gains the new tenant's PTR record",
    ]);
  });

  it("fails on an error diagnostic and on URNs of another stack", () => {
    const r = checkAddTenantPreview(
      withSteps([{ op: "same", urn: "urn:pulumi:prod::librerouter-hosting::pulumi:pulumi:Stack::librerouter-hosting-prod" }]),
      EXP,
    );
    expect(r.problems).toEqual([
      'urn:pulumi:prod::librerouter-hosting::pulumi:pulumi:Stack::librerouter-hosting-prod is in stack "prod" of project "librerouter-hosting", not "acceptance-20260101-120000" of "librerouter-hosting": the preview is of the wrong stack',
    ]);
    const d = checkAddTenantPreview({ ...ok, diagnostics: [{ severity: "error", message: "preflight: template 9000 is not a template\n" }, { severity: "warning", message: "w" }] }, EXP);
    expect(d.problems).toEqual(["preview reported an error: preflight: template 9000 is not a template"]);
  });

  it("a create-replacement shown with --show-replacement-steps fails too", () => {
    const r = checkAddTenantPreview(withSteps([{ op: "create-replacement", urn: U("librerouter:tenant:Tenant$proxmoxve:index/fileLegacy:FileLegacy", "tenant-acc-a-vnc-pw"), replaceReasons: ["sourceRaw"] }]), EXP);
    expect(r.problems).toEqual([
      "tenant-acc-a-vnc-pw (proxmoxve:index/fileLegacy:FileLegacy) would be replaced (create-replacement) (replaceReasons: sourceRaw): tenant acc-a's resource; adding a tenant must only create its own resources",
    ]);
  });
});

describe("asDigest and changedProps", () => {
  it("refuses output that is not a PreviewDigest, saying what to fix", () => {
    expect(() => asDigest([])).toThrow("is PULUMI_ENABLE_STREAMING_JSON_PREVIEW set? unset it");
    expect(() => asDigest({ steps: {} })).toThrow('"steps" is not an array');
    expect(() => asDigest({ steps: [{ op: "create" }] })).toThrow('steps[0] lacks a string "op" or "urn"');
  });
  it("reduces property paths to their top-level input", () => {
    expect(changedProps({ op: "update", urn: "u", diffReasons: ["disks"], detailedDiff: { "disks[0].size": { kind: "update", inputDiff: true }, "memory.dedicated": { kind: "update", inputDiff: false } } })).toEqual(["disks", "memory"]);
  });
});

/**
 * Pure checks on `pulumi preview --json` output (the CLI's PreviewDigest) for the acceptance run's
 * "add one tenant" step: only that tenant's resources are created, only named shared resources update in
 * place, nothing is replaced or deleted, no other tenant is touched.
 *
 * The format is pulumi/pulumi `pkg/display/json.go` (`PreviewDigest`, `PreviewStep`, `PropertyDiff`),
 * filled by `ShowPreviewDigest` in `pkg/backend/display/json.go`. Step ops are the `deploy.Op*` labels of
 * `pkg/resource/deploy/step.go`. In JSON mode the CLI hides `same` steps (except the root stack) and the
 * non-logical halves of a replacement (`create-replacement`, `delete-replaced`) unless
 * `--show-sames` / `--show-replacement-steps` (`shouldShow`, `pkg/backend/display/display.go`): a
 * replacement shows as one `replace` step. URNs: `urn:pulumi:<stack>::<project>::<Parent$Type>::<name>`
 * (`sdk/go/common/resource/urn/urn.go`). No `@pulumi/*` import.
 */

/** `op` labels from pkg/resource/deploy/step.go. */
export const STEP_OPS = [
  "same",
  "create",
  "update",
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read",
  "read-replacement",
  "refresh",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
  "import",
  "import-replacement",
  "diff",
  "extend-parameterize",
] as const;
export type StepOp = (typeof STEP_OPS)[number];

/** `PropertyDiff.kind`: `plugin.DiffKind.String()` in sdk/go/common/resource/plugin/provider.go. */
export interface PropertyDiff {
  readonly kind: "add" | "add-replace" | "delete" | "delete-replace" | "update" | "update-replace";
  readonly inputDiff: boolean;
}

/** The part of `apitype.ResourceV3` the checks read. */
export interface ResourceState {
  readonly urn: string;
  readonly type: string;
  readonly custom: boolean;
  readonly protect?: boolean;
  readonly parent?: string;
  readonly inputs?: Record<string, unknown>;
}

export interface PreviewStep {
  readonly op: StepOp;
  readonly urn: string;
  readonly provider?: string;
  readonly oldState?: ResourceState;
  readonly newState?: ResourceState;
  readonly diffReasons?: readonly string[];
  readonly replaceReasons?: readonly string[];
  readonly detailedDiff?: Readonly<Record<string, PropertyDiff>> | null;
}

export interface PreviewDiagnostic {
  readonly urn?: string;
  readonly message?: string;
  readonly severity?: string;
}

export interface PreviewDigest {
  readonly config?: Record<string, string>;
  readonly steps?: readonly PreviewStep[];
  readonly diagnostics?: readonly PreviewDiagnostic[];
  /** Nanoseconds (Go `time.Duration`). */
  readonly duration?: number;
  readonly changeSummary?: Readonly<Partial<Record<StepOp, number>>>;
  readonly maybeCorrupt?: boolean;
}

/** A URN split the way urn.go splits it: the name is everything after the third `::`. */
export interface ParsedUrn {
  readonly stack: string;
  readonly project: string;
  /** The resource's own type token (last `$` element). */
  readonly type: string;
  /** Parent types, outermost first (the stack's `pulumi:pulumi:Stack` is never part of it). */
  readonly parentTypes: readonly string[];
  readonly name: string;
}

const URN_PREFIX = "urn:pulumi:";

/** Parses a URN, or throws naming the bad value. */
export function parseUrn(urn: string): ParsedUrn {
  if (!urn.startsWith(URN_PREFIX)) throw new Error(`not a Pulumi URN (no "${URN_PREFIX}" prefix): ${JSON.stringify(urn)}`);
  const parts = urn.slice(URN_PREFIX.length).split("::");
  if (parts.length < 4 || parts.slice(0, 3).some((p) => p === "")) throw new Error(`not a Pulumi URN (want urn:pulumi:<stack>::<project>::<type>::<name>): ${JSON.stringify(urn)}`);
  const [stack, project, qualified, ...name] = parts;
  const types = qualified.split("$");
  return { stack, project, type: types[types.length - 1], parentTypes: types.slice(0, -1), name: name.join("::") };
}

/** The Tenant component's type token (components/tenant.ts) and its child names `tenant-<key>-…` (index.ts). */
export const TENANT_TYPE = "librerouter:tenant:Tenant";
export const TENANT_VM_TYPE = "proxmoxve:index/vmLegacy:VmLegacy";

/**
 * The tenant key a resource belongs to, or undefined for shared resources. A resource is a tenant's when it
 * is the Tenant component or one of its children, named `tenant-<key>` / `tenant-<key>-<child>`; with keys
 * that prefix each other (`a`, `a-b`) the longest matching known key wins.
 */
export function tenantOf(u: ParsedUrn, knownKeys: readonly string[]): string | undefined {
  const inTenant = u.type === TENANT_TYPE || u.parentTypes.includes(TENANT_TYPE);
  if (!inTenant) return undefined;
  const matches = knownKeys.filter((k) => u.name === `tenant-${k}` || u.name.startsWith(`tenant-${k}-`));
  if (matches.length) return matches.reduce((a, b) => (b.length > a.length ? b : a));
  // A tenant resource whose key is not in the stack config: report it under its own name.
  return /^tenant-(.+?)(?:-|$)/.exec(u.name)?.[1] ?? u.name;
}

/** A shared resource that may update in place when a tenant is added, and why. */
export interface AllowedUpdate {
  /** The resource's name (last URN element), e.g. `services-setup`. */
  readonly name: string;
  /** Input properties that may differ (top-level keys of diffReasons / detailedDiff). */
  readonly props: readonly string[];
  /** Shown in the report. */
  readonly why: string;
  /** When true, the preview must show this update (the new tenant needs it). */
  readonly required: boolean;
}

export interface AddTenantExpectation {
  readonly stack: string;
  readonly project: string;
  /** The tenant just added to the stack config. */
  readonly newTenant: string;
  /** The tenants the stack had before: none of their resources may change. */
  readonly existingTenants: readonly string[];
  readonly allowedUpdates: readonly AllowedUpdate[];
}

/** What the acceptance run expects when one tenant is added (components/common-services.ts: the PTR zone). */
export const ADD_TENANT_UPDATES: readonly AllowedUpdate[] = [
  { name: "services-setup", props: ["stdin"], why: "the reverse-DNS zone gains the new tenant's PTR record", required: true },
];

export interface CheckResult {
  readonly ok: boolean;
  /** One line per problem, each naming the resource, the op and what to look at. */
  readonly problems: readonly string[];
  /** The accepted changes, one line each (`+ create …`, `~ update … [stdin]`). */
  readonly changes: readonly string[];
}

const NEVER_OK: Readonly<Partial<Record<StepOp, string>>> = {
  delete: "would be deleted",
  replace: "would be replaced",
  "create-replacement": "would be replaced (create-replacement)",
  "delete-replaced": "would be replaced (delete-replaced)",
  "read-replacement": "would be re-read as a replacement",
  "discard-replaced": "would be discarded as a replacement",
  "remove-pending-replace": "has a pending replacement",
  "import-replacement": "would be imported as a replacement",
  discard: "would be dropped from the state (discard)",
  import: "would be imported",
  refresh: "shows drift (refresh) - run the preview without --refresh",
};

/** Top-level property names of a step's diff: `stdin`, `disks[0].size` → `disks`. */
export function changedProps(step: PreviewStep): string[] {
  const keys = [...(step.diffReasons ?? []), ...Object.keys(step.detailedDiff ?? {})].map((k) => k.split(/[.[]/)[0]);
  return [...new Set(keys)].sort();
}

function describe(step: PreviewStep): string {
  const bits: string[] = [];
  if (step.replaceReasons?.length) bits.push(`replaceReasons: ${step.replaceReasons.join(", ")}`);
  const props = changedProps(step);
  if (props.length) bits.push(`changed: ${props.join(", ")}`);
  return bits.length ? ` (${bits.join("; ")})` : "";
}

/** Structural check of parsed JSON: the fields the checks read have the documented types. */
export function asDigest(json: unknown): PreviewDigest {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("pulumi preview --json: the output is not a JSON object (is PULUMI_ENABLE_STREAMING_JSON_PREVIEW set? unset it)");
  const d = json as PreviewDigest;
  if (d.steps !== undefined && !Array.isArray(d.steps)) throw new Error("pulumi preview --json: \"steps\" is not an array");
  for (const [i, s] of (d.steps ?? []).entries()) {
    if (typeof s?.op !== "string" || typeof s?.urn !== "string") throw new Error(`pulumi preview --json: steps[${i}] lacks a string "op" or "urn"`);
  }
  return d;
}

/**
 * Checks a preview taken right after one tenant was added to the stack config. Fails on: an error
 * diagnostic; any delete, replace or other op that is not same/create/update/read; a create that is not the
 * new tenant's; an update of anything but `allowedUpdates` (or of other properties than they name); any
 * change of an existing tenant's resource; a missing Tenant component or VM for the new tenant; a missing
 * required update; a changeSummary that counts deletes or replaces; URNs of another stack or project.
 */
export function checkAddTenantPreview(digest: PreviewDigest, exp: AddTenantExpectation): CheckResult {
  const problems: string[] = [];
  const changes: string[] = [];
  const known = [...exp.existingTenants, exp.newTenant];
  const created = new Set<string>();
  const updated = new Set<string>();

  for (const d of digest.diagnostics ?? []) {
    if (d.severity === "error") problems.push(`preview reported an error${d.urn ? ` on ${d.urn}` : ""}: ${(d.message ?? "").trim()}`);
  }
  for (const step of digest.steps ?? []) {
    let u: ParsedUrn;
    try {
      u = parseUrn(step.urn);
    } catch (e) {
      problems.push((e as Error).message);
      continue;
    }
    if (u.stack !== exp.stack || u.project !== exp.project) {
      problems.push(`${step.urn} is in stack "${u.stack}" of project "${u.project}", not "${exp.stack}" of "${exp.project}": the preview is of the wrong stack`);
      continue;
    }
    const owner = tenantOf(u, known);
    const what = `${u.name} (${u.type})`;
    const op = step.op as string;
    if (op === "same" || op === "read") continue;
    const never = NEVER_OK[step.op];
    if (never) {
      problems.push(`${what} ${never}${describe(step)}${owner ? `: tenant ${owner}'s resource` : ""}; adding a tenant must only create its own resources`);
    } else if (op === "create") {
      if (owner === exp.newTenant) {
        created.add(u.name);
        changes.push(`+ create ${what}`);
      } else if (owner) {
        problems.push(`${what} would be created for tenant ${owner}, not the added tenant ${exp.newTenant}`);
      } else {
        problems.push(`${what} would be created, but it is not tenant ${exp.newTenant}'s: adding a tenant must not create shared resources`);
      }
    } else if (op === "update") {
      const props = changedProps(step);
      const allowed = exp.allowedUpdates.find((a) => a.name === u.name);
      const replacing = Object.entries(step.detailedDiff ?? {}).filter(([, v]) => v.kind.endsWith("-replace"));
      if (owner) {
        problems.push(`${what} would update${describe(step)}: it is tenant ${owner}'s, and adding ${exp.newTenant} must not change another tenant`);
      } else if (!allowed) {
        const names = exp.allowedUpdates.map((a) => a.name).join(", ") || "nothing";
        problems.push(`${what} would update${describe(step)}: only ${names} may update when a tenant is added`);
      } else if (props.some((p) => !allowed.props.includes(p)) || replacing.length) {
        const extra = props.filter((p) => !allowed.props.includes(p));
        const why = replacing.length ? `${replacing.map(([k, v]) => `${k} is ${v.kind}`).join(", ")}` : `${extra.join(", ")} changed`;
        problems.push(`${what} would update ${why}; only ${allowed.props.join(", ")} may change (${allowed.why})`);
      } else {
        updated.add(u.name);
        changes.push(`~ update ${what} [${props.join(", ")}]: ${allowed.why}`);
      }
    } else {
      problems.push(`${what}: unexpected op "${op}"${describe(step)}`);
    }
  }

  const component = `tenant-${exp.newTenant}`;
  for (const [name, type] of [
    [component, TENANT_TYPE],
    [`${component}-vm`, TENANT_VM_TYPE],
  ] as const) {
    if (!created.has(name)) problems.push(`${name} (${type}) is not created: the preview does not add tenant ${exp.newTenant} (is it in the stack config?)`);
  }
  for (const a of exp.allowedUpdates.filter((x) => x.required && !updated.has(x.name))) {
    if (!problems.some((p) => p.startsWith(`${a.name} `))) problems.push(`${a.name} does not update, but it must: ${a.why}`);
  }
  for (const op of ["delete", "replace"] as const) {
    const n = digest.changeSummary?.[op] ?? 0;
    if (n > 0) problems.push(`changeSummary counts ${n} ${op}${n === 1 ? "" : "s"}: nothing may be ${op === "delete" ? "deleted" : "replaced"} when a tenant is added`);
  }
  return { ok: problems.length === 0, problems, changes };
}

/** The report the acceptance script prints. */
export function formatCheck(r: CheckResult, exp: AddTenantExpectation): string {
  const head = r.ok
    ? `preview: adding tenant ${exp.newTenant} creates only its ${r.changes.filter((c) => c.startsWith("+")).length} resources, updates only what is named, replaces and deletes nothing`
    : `preview: adding tenant ${exp.newTenant} is NOT safe (${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}):`;
  return [head, ...r.problems.map((p) => `  ✗ ${p}`), ...r.changes.map((c) => `    ${c}`)].join("\n");
}

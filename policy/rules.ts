/**
 * The policy pack's checks as pure functions: each takes plain resource inputs and returns the violation
 * messages (empty = compliant). `policy/policies.ts` only wires them to resource types. No `@pulumi/*` import.
 * Messages never quote a secret value.
 */
import { assertConsoleSafe } from "../render/vnc";
import { CAPACITY_OUTPUT, type CapacityOutput, type CapacityOutputLine } from "../sizing/capacity-output";
import { FILE, LOCAL_COMMAND, REMOTE_COMMAND, VM } from "./resource-types";

const show = (v: unknown): string => (v === undefined ? "nothing" : JSON.stringify(v));

/**
 * "No VNC listener on a public or wildcard address" and "every console has password auth", in one check:
 * `assertConsoleSafe` from render/vnc.ts, the validator the renderer itself applies to every tenant's args,
 * so the policy and the deployed args cannot disagree. It refuses wildcard, host-name and public listeners,
 * websocket/reverse/port-range settings, debug servers, a `-vnc` without `password-secret` naming a
 * file-backed `-object secret` (or `password=on`): QEMU would offer security type None, an open console.
 */
export function consoleViolations(kvmArguments: string | undefined): string[] {
  if (kvmArguments === undefined || kvmArguments === "") return [];
  try {
    assertConsoleSafe(kvmArguments);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** The parent component types in a URN (`urn:pulumi:stack::project::A$B$type::name` → [A, B]). */
export function parentTypes(urn: string): string[] {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").slice(0, -1);
}

/**
 * Tenant VMs are named `lr-<tenant key>` (plan/build.ts); infrastructure VMs `infra-<role>-<stack>`. A VM under
 * any other librerouter component (OpenVpnServer, VmTemplate, …) is infrastructure whatever its name.
 */
export function isTenantVm(name: unknown, urn: string): boolean {
  if (typeof name !== "string" || !name.startsWith("lr-")) return false;
  return parentTypes(urn).every((t) => !t.startsWith("librerouter:") || t.endsWith(":Tenant"));
}

export interface TenantVmInputs {
  readonly name?: unknown;
  readonly protection?: unknown;
  readonly clone?: { readonly full?: unknown } | null;
}

/** "Every tenant VM is protected and a linked clone": the tenant's data lives on it, and clones stay thin copies. */
export function tenantVmViolations(vm: TenantVmInputs, urn: string): string[] {
  if (!isTenantVm(vm.name, urn)) return [];
  const out: string[] = [];
  if (vm.protection !== true) out.push(`tenant VM "${vm.name}" must have protection: true (it holds the tenant's data); got ${show(vm.protection)}`);
  if (!vm.clone) out.push(`tenant VM "${vm.name}" must be a linked clone of the template (clone.full: false); it has no clone block`);
  else if (vm.clone.full !== false) out.push(`tenant VM "${vm.name}" must be a linked clone (clone.full: false); got clone.full: ${show(vm.clone.full)} (the provider's default is a full clone)`);
  return out;
}

export interface SnippetInputs {
  readonly contentType?: unknown;
  readonly fileMode?: unknown;
  readonly sourceRaw?: { readonly fileName?: unknown; readonly data?: unknown } | null;
}

/** File name of a snippet upload, or undefined when it is not a raw snippet. */
export function snippetFileName(f: SnippetInputs): string | undefined {
  return f.contentType === "snippets" && typeof f.sourceRaw?.fileName === "string" ? f.sourceRaw.fileName : undefined;
}

/** True for the VNC password files the tenants' `-object secret,file=` read (`vnc-<key>…`). */
export const isVncSnippet = (f: SnippetInputs): boolean => snippetFileName(f)?.startsWith("vnc-") ?? false;

/** "VNC password snippet files are mode 0600": anyone else on the host could read the password. */
export function snippetModeViolations(f: SnippetInputs): string[] {
  const name = snippetFileName(f);
  if (name === undefined || !name.startsWith("vnc-")) return [];
  if (f.fileMode === "0600" || f.fileMode === "600") return [];
  return [`VNC password snippet "${name}" must have fileMode "0600" (root-only); got ${show(f.fileMode)}`];
}

/**
 * Content of a VNC password snippet (checked apart from the mode: it is unknown during a first preview).
 * QEMU reads the file raw and uses only 8 bytes: a newline would become part of the password.
 */
export function snippetContentViolations(f: SnippetInputs): string[] {
  const name = snippetFileName(f);
  const data = f.sourceRaw?.data;
  if (name === undefined || !name.startsWith("vnc-") || typeof data !== "string") return [];
  if (data.length === 8 && !/[\r\n]/.test(data)) return [];
  return [`VNC password snippet "${name}" must hold exactly 8 characters and no newline (QEMU reads it raw and uses 8 bytes); got ${data.length} characters`];
}

/** `-object secret,…,data=…` (QEMU also accepts `--object`); group 1 is the id when given. */
const INLINE_SECRET = /(?:^|\s)--?object\s+secret,(?=\S*\bdata=)(?:\S*?\bid=([^,\s]+))?\S*/g;

/** PEM private keys and OpenVPN static (tls-crypt) and tls-crypt-v2 keys: text that must only travel as a secret. */
export const KEY_MATERIAL = /-----BEGIN (?:[A-Z0-9 ]+ )?PRIVATE KEY-----|-----BEGIN OpenVPN Static key V1-----|-----BEGIN OpenVPN tls-crypt-v2 (?:server|client) key-----/;

/**
 * "No secret in plain text", where a policy can tell: the policy engine sees secrets unwrapped, so what is
 * checked is where secret material sits, not whether it is marked secret.
 * - VM args: `-object secret,data=` puts the VNC password in the VM config and the process list.
 * - Remote/local commands: key material in a command line shows in `ps` and in the preview diff; feed it
 *   on stdin, and mark stdout/stderr secret so an echo cannot leak it into the state or the log.
 * - Snippet files holding key material must be root-only like the VNC password files.
 */
export function plaintextSecretViolations(type: string, props: Record<string, unknown>, additionalSecretOutputs: readonly string[] = []): string[] {
  const out: string[] = [];
  if (type === VM && typeof props.kvmArguments === "string") {
    // Any inline secret object, even one no display uses (the console check only sees referenced ones).
    for (const m of props.kvmArguments.matchAll(INLINE_SECRET)) {
      out.push(`-object secret,id=${m[1] ?? "?"} carries its value inline (data=): it lands in the VM config and the process list; use file=<root-only snippet>`);
    }
  }
  if (type === REMOTE_COMMAND || type === LOCAL_COMMAND) {
    for (const field of ["create", "update", "delete"]) {
      const v = props[field];
      if (typeof v === "string" && KEY_MATERIAL.test(v)) out.push(`command "${field}" contains key material: pass it on stdin, never in the command line`);
    }
    if (typeof props.stdin === "string" && KEY_MATERIAL.test(props.stdin)) {
      const missing = ["stdout", "stderr"].filter((o) => !additionalSecretOutputs.includes(o));
      if (missing.length) out.push(`command feeds key material on stdin but does not mark ${missing.join(" and ")} secret (additionalSecretOutputs)`);
    }
  }
  if (type === FILE) {
    const f = props as SnippetInputs;
    const name = snippetFileName(f);
    if (name !== undefined && typeof f.sourceRaw?.data === "string" && KEY_MATERIAL.test(f.sourceRaw.data) && f.fileMode !== "0600" && f.fileMode !== "600") {
      out.push(`snippet "${name}" contains key material and must have fileMode "0600"; got ${show(f.fileMode)}`);
    }
  }
  return out;
}

/** The capacity output as the policy receives it: the program's shape, every field unchecked. */
type Received<T> = { readonly [K in keyof T]?: unknown };
type ReceivedCapacity = Received<Omit<CapacityOutput, "lines">> & { readonly lines?: readonly Received<CapacityOutputLine>[] };

const shortfall = (l: Received<CapacityOutputLine>) => (typeof l.note === "string" && l.note ? l.note : `needs ${String(l.needed)} ${String(l.unit)}, has ${String(l.available)}`);

/**
 * "Stack fits its profile": the verdict the program computed from the same config (`sizing/capacity.ts`)
 * must not be "fail"; each failing line is reported with its shortfall. "warn" passes. The program already
 * refuses a failing stack (stack/compile.ts); this catches a program or an override that stops doing so.
 */
export function capacityViolations(capacity: unknown): string[] {
  if (capacity === undefined || capacity === null || typeof capacity !== "object") {
    return [`the stack exports no "${CAPACITY_OUTPUT}" output; index.ts must export the capacity summary so the policy can check it`];
  }
  const c = capacity as ReceivedCapacity;
  if (c.verdict === "ok" || c.verdict === "warn") return [];
  const where = `profile "${String(c.profile)}" with ${String(c.tenants)} tenants`;
  if (c.verdict !== "fail") return [`capacity output has verdict ${show(c.verdict)}; expected "ok", "warn" or "fail"`];
  const failing = (c.lines ?? []).filter((l) => l.status === "fail");
  if (failing.length === 0) return [`stack does not fit its ${where} (verdict "fail")`];
  return failing.map((l) => `stack does not fit its ${where}: ${String(l.resource)}: ${shortfall(l)}`);
}

export interface PlacedVm {
  readonly name?: unknown;
  readonly nodeName?: unknown;
  readonly template?: unknown;
  readonly memory?: { readonly dedicated?: unknown; readonly floating?: unknown } | null;
}

/** A VM's memory floor, MiB: its balloon minimum (memory.floating) when set, else all of memory.dedicated. */
function floorMb(vm: PlacedVm): number | undefined {
  const floating = vm.memory?.floating;
  const dedicated = vm.memory?.dedicated;
  if (typeof floating === "number" && floating > 0) return floating;
  return typeof dedicated === "number" ? dedicated : undefined;
}

/**
 * "Placement fits its nodes": the VM resources as declared (nodeName and memory), summed per node at their memory
 * floors with QEMU's overhead, plus what the node keeps for itself and Ceph, against that node's RAM from the
 * capacity output. The program's per-node lines compute the same from the plan; this sees the resources, so a
 * VM moved or resized outside the plan is caught. Templates do not run and are skipped; a stack without node
 * figures (one node: the RAM line covers it) is not checked.
 */
export function placementViolations(capacity: unknown, vms: readonly PlacedVm[]): string[] {
  const nodes = (capacity as { nodes?: unknown } | null | undefined)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const out: string[] = [];
  const known = new Map<string, { ramGb: number; reservedGb: number; qemuOverheadMb: number; index: number }>();
  nodes.forEach((n: { name?: unknown; ramGb?: unknown; reservedGb?: unknown; qemuOverheadMb?: unknown }, index) => {
    if (typeof n?.name === "string" && typeof n.ramGb === "number") {
      known.set(n.name, { ramGb: n.ramGb, reservedGb: typeof n.reservedGb === "number" ? n.reservedGb : 0, qemuOverheadMb: typeof n.qemuOverheadMb === "number" ? n.qemuOverheadMb : 0, index });
    }
  });
  const load = new Map<string, { mb: number; vms: number }>();
  for (const vm of vms) {
    if (vm.template === true) continue;
    const node = vm.nodeName;
    // An unknown nodeName (a first preview's computed value) cannot be weighed; a known one must be a node.
    if (typeof node !== "string") continue;
    if (!known.has(node)) {
      out.push(`VM "${String(vm.name)}" is placed on node "${node}", which is not a node of the stack (${[...known.keys()].join(", ")})`);
      continue;
    }
    const mb = floorMb(vm);
    if (mb === undefined) continue;
    const l = load.get(node) ?? { mb: 0, vms: 0 };
    load.set(node, { mb: l.mb + mb, vms: l.vms + 1 });
  }
  for (const [node, n] of known) {
    const l = load.get(node);
    if (!l) continue;
    const vmGb = (l.mb + l.vms * n.qemuOverheadMb) / 1024;
    const need = vmGb + n.reservedGb;
    if (need > n.ramGb) {
      out.push(
        `node "${node}": ${l.vms} VMs need ${vmGb.toFixed(1)} GiB at their memory floors (with ${n.qemuOverheadMb} MiB QEMU overhead each) + ${n.reservedGb.toFixed(1)} GiB for the host and Ceph = ${need.toFixed(1)} GiB, above its ${n.ramGb} GiB; pin tenants to another node (tenants.<key>.node) or add RAM (nodes.${n.index}.hardware.ramGb)`,
      );
    }
  }
  return out;
}

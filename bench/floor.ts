/**
 * SDK floors: programs that cost only what the Pulumi SDK charges for registering resources, none of the
 * program's own work (plan, rendering, Output plumbing), each mocked by the same monitor as the real program.
 *
 * - `trivial`: N ComponentResources and M RandomId-typed custom resources with two small inputs each.
 * - `typed`: the same SDK classes as the program in the same numbers (VmLegacy, Command, LocallySignedCert…),
 *   with their minimal required inputs. The SDK gives every declared output property of a class four
 *   promises, each capturing a stack trace, so a VmLegacy (~60 properties) costs far more than a RandomId (2).
 * - `replay`: the program's exact registrations (same tree of components, same classes, same names, the same
 *   input values with the same secrets), recorded from a program run, with nothing else.
 * What the program costs beyond `replay` is its own work.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { installMocks, settle, type Registration } from "./mock-program";

class Group extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions = {}) {
    super(type, name, {}, opts);
    this.registerOutputs({});
  }
}

class RandomLike extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super("random:index/randomId:RandomId", name, props, opts);
  }
}

/** Registers `components` groups and `customs` RandomId-typed resources spread over them; resolves when all are registered. */
export async function floorProgram(components: number, customs: number, into: Registration[]): Promise<void> {
  installMocks("floor", {}, into);
  const groups = Array.from({ length: Math.max(components, 1) }, (_, i) => new Group("floor:index:Group", `group-${i}`));
  for (let i = 0; i < customs; i++) {
    new RandomLike(`id-${i}`, { byteLength: 8, prefix: `p${i}-` }, { parent: groups[i % groups.length] });
  }
  await settle({});
}

type Make = (name: string, inputs: pulumi.Inputs, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** The SDK class of each custom type token the program registers, and the minimal inputs it requires. */
const CLASSES: Record<string, { make: Make; minimal: pulumi.Inputs }> = {
  "pulumi:providers:proxmoxve": { make: (n, i, o) => new proxmoxve.Provider(n, i, o), minimal: {} },
  "proxmoxve:network/linux/bridge:Bridge": { make: (n, i, o) => new proxmoxve.network.linux.Bridge(n, i as proxmoxve.network.linux.BridgeArgs, o), minimal: { nodeName: "pve" } },
  "proxmoxve:download/file:File": { make: (n, i, o) => new proxmoxve.download.File(n, i as proxmoxve.download.FileArgs, o), minimal: { nodeName: "pve", datastoreId: "local", contentType: "import", url: "https://x/y.img" } },
  "proxmoxve:index/vmLegacy:VmLegacy": { make: (n, i, o) => new proxmoxve.VmLegacy(n, i as proxmoxve.VmLegacyArgs, o), minimal: { nodeName: "pve" } },
  "proxmoxve:index/fileLegacy:FileLegacy": { make: (n, i, o) => new proxmoxve.FileLegacy(n, i as proxmoxve.FileLegacyArgs, o), minimal: { nodeName: "pve", datastoreId: "local" } },
  "command:remote:Command": { make: (n, i, o) => new command.remote.Command(n, i as command.remote.CommandArgs, o), minimal: { connection: { host: "h" } } },
  "tls:index/privateKey:PrivateKey": { make: (n, i, o) => new tls.PrivateKey(n, i as tls.PrivateKeyArgs, o), minimal: { algorithm: "ECDSA" } },
  "tls:index/certRequest:CertRequest": { make: (n, i, o) => new tls.CertRequest(n, i as tls.CertRequestArgs, o), minimal: { privateKeyPem: "k" } },
  "tls:index/selfSignedCert:SelfSignedCert": {
    make: (n, i, o) => new tls.SelfSignedCert(n, i as tls.SelfSignedCertArgs, o),
    minimal: { privateKeyPem: "k", allowedUses: [], validityPeriodHours: 1 },
  },
  "tls:index/locallySignedCert:LocallySignedCert": {
    make: (n, i, o) => new tls.LocallySignedCert(n, i as tls.LocallySignedCertArgs, o),
    minimal: { certRequestPem: "r", caPrivateKeyPem: "k", caCertPem: "c", allowedUses: [], validityPeriodHours: 1 },
  },
  "random:index/randomPassword:RandomPassword": { make: (n, i, o) => new random.RandomPassword(n, i as random.RandomPasswordArgs, o), minimal: { length: 8 } },
  "random:index/randomBytes:RandomBytes": { make: (n, i, o) => new random.RandomBytes(n, i as random.RandomBytesArgs, o), minimal: { length: 8 } },
  // The firewall classes (host, anti-spoofing, fixed mode's WAN group).
  "proxmoxve:cluster/firewallLegacy:FirewallLegacy": { make: (n, i, o) => new proxmoxve.cluster.FirewallLegacy(n, i as proxmoxve.cluster.FirewallLegacyArgs, o), minimal: {} },
  "proxmoxve:node/firewallLegacy:FirewallLegacy": { make: (n, i, o) => new proxmoxve.node.FirewallLegacy(n, i as proxmoxve.node.FirewallLegacyArgs, o), minimal: { nodeName: "pve" } },
  "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy": { make: (n, i, o) => new proxmoxve.cluster.firewall.security.GroupLegacy(n, i as proxmoxve.cluster.firewall.security.GroupLegacyArgs, o), minimal: {} },
  "proxmoxve:firewall/ipsetLegacy:IpsetLegacy": { make: (n, i, o) => new proxmoxve.firewall.IpsetLegacy(n, i as proxmoxve.firewall.IpsetLegacyArgs, o), minimal: {} },
  "proxmoxve:firewall/rulesLegacy:RulesLegacy": { make: (n, i, o) => new proxmoxve.firewall.RulesLegacy(n, i as proxmoxve.firewall.RulesLegacyArgs, o), minimal: {} },
  "proxmoxve:firewall/optionsLegacy:OptionsLegacy": { make: (n, i, o) => new proxmoxve.firewall.OptionsLegacy(n, i as proxmoxve.firewall.OptionsLegacyArgs, o), minimal: { nodeName: "pve" } },
};

function classOf(type: string): { make: Make; minimal: pulumi.Inputs } {
  const c = CLASSES[type];
  if (!c) throw new Error(`bench floor: no SDK class for ${type}; add it to CLASSES`);
  return c;
}

/** `typed`: `components` groups and, per type token, that many resources of its SDK class with minimal inputs. */
export async function typedFloorProgram(components: number, customsByType: Readonly<Record<string, number>>, into: Registration[]): Promise<void> {
  installMocks("floor", {}, into);
  const groups = Array.from({ length: Math.max(components, 1) }, (_, i) => new Group("floor:index:Group", `group-${i}`));
  let i = 0;
  for (const [type, count] of Object.entries(customsByType)) {
    const { make, minimal } = classOf(type);
    for (let k = 0; k < count; k++, i++) make(`r-${i}`, minimal, { parent: groups[i % groups.length] });
  }
  await settle({});
}

/** The mock monitor's secret wrapper (rpc.specialSigKey) back into `pulumi.secret`, at the same paths. */
function rewrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewrap);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") return pulumi.secret(rewrap(o.value));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, rewrap(x)]));
  }
  return v;
}

/** `replay`: the recorded registrations (with `inputs` and `parent`), in order, under the same parents. */
export async function replayFloorProgram(recorded: readonly Registration[], into: Registration[]): Promise<void> {
  installMocks("floor", {}, into);
  const byUrn = new Map<string, pulumi.Resource>();
  for (const r of recorded) {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    const opts = parent ? { parent } : {};
    const res = r.custom ? classOf(r.type).make(r.name, rewrap(r.inputs ?? {}) as pulumi.Inputs, opts) : new Group(r.type, r.name, opts);
    byUrn.set(r.urn, res);
  }
  await settle({});
}

/**
 * Core and tenant shard stacks (issue 13, `shards.tenantsPerShard`): what a Tenant needs of the core, handed from the
 * core stack to its shard stacks through a stack output, and rebuilt in a shard from a `pulumi.StackReference`.
 *
 * The rebuilt objects give a tenant the SAME inputs as in one stack (the CA's certificate and key sign its certificate
 * through Pki.issue itself, its commands reach the servers with the same connections), so a tenant moved between
 * stacks with `pulumi state move` then shows no change. Only its dependencies differ: a shard cannot depend on another
 * stack's resources, so what a tenant waited on in one stack (server setups, DHCP, host bridges) is the core's
 * StackReference there, and the core's `pulumi up` comes first.
 *
 * What the design relies on in the engine (pulumi/pulumi):
 * - sdk/nodejs/stackReference.ts: `getOutput`/`requireOutput` mark an output secret when the referenced stack has it
 *   in `secretOutputNames`, so the handoff (secret as a whole) stays secret here; `unsecret` below makes plain only
 *   what is plain in one stack. The reference is a read (registered with an `id`), done in preview too.
 * - pkg/cmd/pulumi/state/state_move.go: a moved resource takes its children along and gets its URN in the
 *   destination stack (a parent left behind becomes the destination's root stack); its dependencies on resources left
 *   behind are dropped (breakDependencies); its provider is copied, or the destination's is used when one of the same
 *   URN has equal inputs: a shard's `proxmox` provider is built from the same config as the core's, so it is reused.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";
import { type ConnectionArgs, guestConnection } from "./connections";
import { Pki } from "./pki";
import type { HostLayout, ServerLayout } from "../render/layout";
import type { SdnZone } from "./sdn";
import type { TenantBase } from "./service-core";
import type { ShardLayout } from "./stack-config";
import type { OpenVpnServer } from "./openvpn-server";
import type { TenantServicesVm } from "./tenant";

/** What the core hands its shards (the secret `shardHandoff` output), resolved. */
export interface CoreHandoff {
  /** Secret: the CA's private key; every tenant's certificate is signed with it. */
  readonly caKeyPem: string;
  readonly caCertPem: string;
  /** Secret: the tls-crypt-v2 server key file every tenant's client key is wrapped with. */
  readonly tlsCryptV2ServerKey: string;
  /** The API node's LibreRouter template VMID (the other nodes' come from the plan). */
  readonly templateVmId: number;
  /** Per VPN server: its SSH host key as the host saw it and its identity (the VM's MAC). */
  readonly servers: Readonly<Record<string, { readonly hostKey: string; readonly identity: string | null }>>;
  readonly services: { readonly hostKey: string; readonly identity: string | null };
  /** Secret: the ban grid's report-token key; null with reports off. */
  readonly banReportKey: string | null;
}

/** A VPN server as a tenant uses it (components/tenant.ts TenantArgs.servers). */
export type TenantVpnServer = Pick<OpenVpnServer, "server" | "connection" | "identity" | "setup">;
/** The PKI as a tenant uses it. */
export type TenantPki = Pick<Pki, "issue" | "caCertPem" | "tlsCryptV2ServerKey">;

/** The core's parts a shard's tenants stand on, as the shard rebuilds them. */
export interface ShardCore {
  readonly pki: TenantPki;
  readonly servers: readonly TenantVpnServer[];
  readonly services: TenantServicesVm;
  /** The LibreRouter template VMID on a node. */
  readonly templateVmId: (node: string) => pulumi.Input<number>;
  readonly banReportKey?: pulumi.Output<string>;
  /** What tenants wait on in place of the core's resources: the StackReference. */
  readonly ready: pulumi.Resource;
  /** Every Tenant component's dependsOn: resolves once the core's shardLayout matched, fails the run otherwise. */
  readonly checked: pulumi.Output<pulumi.Resource[]>;
}

/** The core's half: the secret handoff (an output of the core stack). */
export function coreHandoffOutput(core: {
  readonly pki: Pki;
  readonly templateVmId: pulumi.Input<number>;
  readonly servers: readonly OpenVpnServer[];
  readonly services: { readonly connection: ConnectionArgs; readonly identity: pulumi.Input<string | undefined> };
  readonly banReportKey?: pulumi.Output<string>;
}): pulumi.Output<CoreHandoff> {
  const facts = (c: { readonly connection: ConnectionArgs; readonly identity: pulumi.Input<string | undefined> }) =>
    pulumi.all([c.connection.hostKey, c.identity]).apply(([hostKey, identity]) => ({ hostKey: String(hostKey ?? ""), identity: identity ?? null }));
  return pulumi.secret(
    pulumi.output({
      caKeyPem: core.pki.caKey.privateKeyPem,
      caCertPem: core.pki.caCertPem,
      tlsCryptV2ServerKey: core.pki.tlsCryptV2ServerKey,
      templateVmId: core.templateVmId,
      servers: pulumi.all(Object.fromEntries(core.servers.map((s) => [s.server.name, facts(s)]))),
      services: facts(core.services),
      banReportKey: core.banReportKey ?? null,
    }),
  ) as pulumi.Output<CoreHandoff>;
}

/** The refusal a shard stack gives when its core was planned from another config (or another tenantsPerShard). */
export function layoutMismatch(stack: string, core: string, ours: ShardLayout, theirs: ShardLayout | undefined): string | undefined {
  const fix = `run \`npm run shards -- --stack ${core}\` and \`pulumi up\` the core stack ${core} first, then this stack`;
  if (!theirs) return `shard stack ${stack}: the core stack ${core} exports no shardLayout (not up yet, or not sharded); ${fix}`;
  if (theirs.tenantsPerShard !== ours.tenantsPerShard) {
    return `shard stack ${stack}: shards.tenantsPerShard is ${ours.tenantsPerShard} here but ${theirs.tenantsPerShard} in the core stack ${core}; ${fix}`;
  }
  if (theirs.configHash !== ours.configHash) return `shard stack ${stack}: its config differs from the core stack ${core}'s (config hash ${ours.configHash.slice(0, 12)} here, ${theirs.configHash.slice(0, 12)} there); ${fix}`;
  return undefined;
}

/**
 * The shard's half: reads the core through `<org>/<project>/<core>` and rebuilds what its tenants need. Connections are
 * built here from the plan and this stack's own `sshPrivateKey` (copied from the core with `pulumi config cp`), with the
 * host keys the core learnt.
 */
export function shardCore(
  plan: Plan,
  args: {
    readonly stack: string;
    readonly core: string;
    readonly layout: ShardLayout;
    /** The SSH connection a guest on `node` is reached through: what the core's program gives OpenVpnServer / CommonServices. */
    readonly guestHost: (node: string) => ConnectionArgs;
  },
): ShardCore {
  const ref = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${args.core}`);
  const handoff = ref.requireOutput("shardHandoff") as pulumi.Output<CoreHandoff>;
  const checked = ref.getOutput("shardLayout").apply((theirs: ShardLayout | undefined) => {
    const why = layoutMismatch(args.stack, args.core, args.layout, theirs);
    if (why) throw new pulumi.RunError(why);
    return [ref] as pulumi.Resource[];
  });
  // Plain in one stack (certificate, MACs, host keys, VMID): plain here too, so the inputs match exactly.
  const plain = <T>(f: (h: CoreHandoff) => T): pulumi.Output<T> => pulumi.unsecret(handoff.apply(f));
  const secret = (f: (h: CoreHandoff) => string): pulumi.Output<string> => pulumi.secret(handoff.apply(f));
  const ca = { caKey: { privateKeyPem: secret((h) => h.caKeyPem) }, caCert: { certPem: plain((h) => h.caCertPem) } };
  const pki: TenantPki = {
    caCertPem: ca.caCert.certPem,
    tlsCryptV2ServerKey: secret((h) => h.tlsCryptV2ServerKey),
    // Pki.issue itself on the core's CA: a shard's certificates are declared by the same code as in one stack.
    issue: (name, spec, opts) => Pki.prototype.issue.call(ca as unknown as Pki, name, spec, opts),
  };
  const identity = (f: (h: CoreHandoff) => string | null) => plain((h) => f(h) ?? undefined);
  const servers = plan.servers.map(
    (server): TenantVpnServer => ({
      server,
      connection: guestConnection(args.guestHost(server.node), server.mgmtIp, plain((h) => h.servers[server.name].hostKey)),
      identity: identity((h) => h.servers[server.name].identity),
      setup: ref,
    }),
  );
  const services: TenantServicesVm = {
    connection: guestConnection(args.guestHost(plan.services.node), plan.services.mgmtIp, plain((h) => h.services.hostKey)),
    identity: identity((h) => h.services.identity),
    ...(plan.tenantNetwork.mode === "fixed" ? { dhcp: ref } : {}),
  };
  const reportKey = plan.bans.report ? { banReportKey: secret((h) => h.banReportKey ?? "") } : {};
  const apiTemplate = plain((h) => h.templateVmId);
  // As vm-template.ts nodeTemplates: the API node's template is the core's VmTemplate, the others' are in the plan.
  const templateVmId = (node: string): pulumi.Input<number> => (node === plan.host.node ? apiTemplate : plan.nodes.find((n) => n.name === node)!.templates.vmid);
  return { pki, servers, services, templateVmId, ready: ref, checked, ...reportKey };
}

/**
 * A shard: a tenant stands on the core's parts as rebuilt here, its node's connection from the plan and the bridges'
 * names (a node's ProxmoxHost bridges are plan.bridges). What it waited on in one stack is the StackReference; the
 * fixed mode's WAN security group is the core's, named by the constant the firewall rule uses.
 */
export function shardTenantBase(
  core: ShardCore,
  plan: Plan,
  args: { readonly hostLayout: HostLayout; readonly serverLayout: ServerLayout; readonly hostConnections: Readonly<Record<string, ConnectionArgs>>; readonly sdn?: SdnZone },
): TenantBase {
  return (tenant) => ({
    templateVmId: core.templateVmId(tenant.node),
    pki: core.pki,
    servers: core.servers,
    bridges: plan.bridges,
    hostLayout: args.hostLayout,
    hostConnection: args.hostConnections[tenant.node],
    serverLayout: args.serverLayout,
    dependsOn: [core.ready],
    services: core.services,
    ...(plan.tenantNetwork.mode === "fixed" ? { wanGroup: core.ready } : {}),
    ...(core.banReportKey ? { banReportKey: core.banReportKey } : {}),
    ...(args.sdn ? { sdn: args.sdn } : {}),
  });
}

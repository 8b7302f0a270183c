/**
 * The monitoring (issue 14): one command per machine from render/monitoring/setup.ts: the node exporter everywhere
 * (on the management address), lr-metrics on vpn1 and vpn2, Prometheus, Alertmanager and the tenants' certificate
 * figures on the services VM. Each machine's command runs after that machine's own setup (apt must not run twice at
 * once on one machine), as the ban grid's do; a rebuilt VM (its identity) runs its apply again. Nothing here is a
 * secret but the webhook URL, which may carry a token: the services VM's command is secret when one is set.
 */
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringPlan } from "../plan/monitoring";
import type { Plan } from "../plan/types";
import { certsTextfile } from "../render/monitoring/certs";
import type { ServerLayout } from "../render/layout";
import { PRODUCTION_MONITORING_PATHS } from "../render/monitoring/paths";
import { type MonitoringMember, monitoringSetupScript, monitoringTeardownScript, shardCertsRemoval, shardCertsScript } from "../render/monitoring/setup";
import type { ConnectionArgs } from "./connections";
import { remoteScript } from "./remote-script";

/** A machine the monitoring runs on: how to reach it, its identity (a rebuilt VM is set up again), what must finish first. */
export interface MonitoringTarget {
  readonly connection: ConnectionArgs;
  readonly identity?: pulumi.Input<string | undefined>;
  readonly after: readonly pulumi.Resource[];
}

export interface MonitoringArgs {
  readonly plan: Plan;
  /** plan/monitoring.ts, with the capacity check's warnAt. */
  readonly mon: MonitoringPlan;
  readonly serverLayout: ServerLayout;
  /** Every exporter's machine by its name in the plan (vpn1, vpn2, services, each Proxmox node). */
  readonly members: Readonly<Record<string, MonitoringTarget>>;
  /** Each tenant's client certificate end (`LocallySignedCert.validityEndTime`, RFC 3339), by tenant key. */
  readonly tenantCertEnds: Readonly<Record<string, pulumi.Input<string>>>;
  /** The CA's end, also in the certificate figures (the servers report the one they hold). */
  readonly caEnd?: pulumi.Input<string>;
}

const paths = PRODUCTION_MONITORING_PATHS;

export class Monitoring extends pulumi.ComponentResource {
  /** Each machine's command, by exporter name. */
  public readonly setups: Readonly<Record<string, pulumi.Resource>>;
  /** Prometheus on the services VM's management address. */
  public readonly prometheusUrl: string;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:monitoring:Monitoring", name, {}, opts);
    const { plan, mon, members } = args;
    if (!mon.enabled) throw new Error("Monitoring: monitoring.enabled is false; do not declare the component");
    const setups: Record<string, pulumi.Resource> = {};
    for (const e of mon.exporters) {
      const target = members[e.server];
      if (!target) throw new Error(`Monitoring: no connection for ${e.server}`);
      const server = plan.servers.find((s) => s.name === e.server);
      const member = (certs: string): MonitoringMember =>
        e.role === "vpn" && server ? { role: "vpn", server, layout: args.serverLayout } : e.role === "services" ? { role: "services", certs } : { role: "host", name: e.server };
      // Only the services VM's figures wait on other resources (the certificates): the rest are plain text.
      const apply: pulumi.Input<string> =
        e.role === "services"
          ? pulumi.all([pulumi.all(args.tenantCertEnds), args.caEnd]).apply(([t, ca]) => monitoringSetupScript(mon, plan.stack, member(certsTextfile(t, ca ? { ca } : {})), paths))
          : monitoringSetupScript(mon, plan.stack, member(""), paths);
      const secret = e.role === "services" && mon.alertmanager.webhookUrl !== undefined;
      setups[e.server] = remoteScript(
        `${name}-${e.server}`,
        { connection: target.connection, apply: secret ? pulumi.secret(apply) : apply, delete: monitoringTeardownScript(mon, plan.stack, member(""), paths), target: target.identity, secret },
        { parent: this, dependsOn: [...target.after] },
      );
    }
    this.setups = setups;
    this.prometheusUrl = mon.prometheus.url;
    this.registerOutputs({ prometheusUrl: this.prometheusUrl });
  }
}

/**
 * A shard stack's tenants' certificate ends on the services VM, as the shard's own textfile (render/monitoring/setup.ts
 * shardCertsScript): the core's Monitoring knows no tenant of a shard. Removed with the shard's last tenant.
 */
export function shardCertFigures(
  name: string,
  args: { readonly plan: Plan; readonly shard: string; readonly services: { readonly connection: ConnectionArgs; readonly identity: pulumi.Input<string | undefined> }; readonly tenantCertEnds: Readonly<Record<string, pulumi.Input<string>>> },
  opts: pulumi.CustomResourceOptions,
): pulumi.Resource {
  const { plan, shard } = args;
  const apply = pulumi.all(args.tenantCertEnds).apply((t) => shardCertsScript(plan.stack, shard, certsTextfile(t), paths));
  return remoteScript(name, { connection: args.services.connection, apply, delete: shardCertsRemoval(plan.stack, shard, paths), target: args.services.identity }, opts);
}

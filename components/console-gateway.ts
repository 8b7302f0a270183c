/**
 * The tenants' browser console on both VPN servers (render/console-gateway.ts, render/console-web.ts): per server a
 * certificate from the service CA for its instance gateways (the bundle's CA is all a browser needs to trust the page)
 * and one command that installs and runs the gateway, after that server's setup and its ban-grid member (apt must not
 * run twice at once on one machine). The command carries the key: secret, no logged output. Adding a tenant changes
 * nothing here: the gateway reads the tenants' env files.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";
import { consoleGatewayScripts } from "../render/console-gateway";
import type { ServerLayout } from "../render/layout";
import { SERVER_USES } from "../render/pki-profile";
import type { OpenVpnServer } from "./openvpn-server";
import type { Pki } from "./pki";
import { remoteScript } from "./remote-script";

export interface ConsoleGatewayArgs {
  readonly plan: Plan;
  readonly pki: Pki;
  readonly servers: readonly OpenVpnServer[];
  readonly layout: ServerLayout;
  /** Per server name, what must be done there first besides its setup (its ban-grid member). */
  readonly after?: Readonly<Record<string, readonly pulumi.Resource[]>>;
}

export class ConsoleGateway extends pulumi.ComponentResource {
  /** Each server's gateway command, by server name. */
  public readonly gateways: Readonly<Record<string, pulumi.Resource>>;

  constructor(name: string, args: ConsoleGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:consoles:ConsoleGateway", name, {}, opts);
    const { plan, pki, layout } = args;
    const gateways: Record<string, pulumi.Resource> = {};
    for (const vpn of args.servers) {
      const s = vpn.server;
      const cert = pki.issue(
        `${name}-${s.name}`,
        { commonName: `console.${s.name}.${plan.stack}.librerouter`, allowedUses: SERVER_USES, ipAddresses: s.instances.map((i) => i.gateway), ...plan.pki.server },
        { parent: this },
      );
      const scripts = pulumi.all([cert.certPem, cert.privateKeyPem]).apply(([certPem, keyPem]) => consoleGatewayScripts(plan, s, layout, { certPem, keyPem }));
      gateways[s.name] = remoteScript(
        `${name}-${s.name}`,
        { connection: vpn.connection, apply: scripts.apply((x) => x.apply), delete: scripts.apply((x) => x.delete), target: vpn.identity, secret: true },
        { parent: this, dependsOn: [vpn.setup, ...(args.after?.[s.name] ?? [])] },
      );
    }
    this.gateways = gateways;
    this.registerOutputs({});
  }
}

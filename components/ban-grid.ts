/**
 * The ban grid (CrowdSec, render/bans/*): its secrets (a machine password per agent, an API key per bouncer, the
 * report gateway's password), the LAPI's certificate from the service CA, and one command per member: the services
 * VM first (the decision store), then the enrolment of every machine and bouncer on it, then vpn1, vpn2 and every
 * Proxmox node (`host`, and `host-<node>` for each other node of a cluster: the tenants there are behind its
 * bridge). Tenants' report tokens are HMACs under one key (render/bans/tenant-report.ts), checked by the gateway
 * against the report's source address: adding a tenant changes nothing here and adds no resource. Every command
 * carrying a secret is a secret with no logged output.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type BanMemberName, banCredentials } from "../plan/bans";
import type { Plan } from "../plan/types";
import { PRODUCTION_PATHS } from "../render/bans/paths";
import { type MemberSecrets, enrolScript, setupScript, teardownScript } from "../render/bans/setup";
import { SERVER_USES } from "../render/pki-profile";
import type { ConnectionArgs } from "./connections";
import type { Pki } from "./pki";
import { remoteScript } from "./remote-script";

/** A machine the grid runs on: how to reach it, its identity (a rebuilt VM is set up again), what must finish first. */
export interface BanMemberTarget {
  readonly connection: ConnectionArgs;
  readonly identity?: pulumi.Input<string | undefined>;
  /** Its own setup (apt must not run twice at once on one machine). */
  readonly after: readonly pulumi.Resource[];
}

export interface BanGridArgs {
  readonly plan: Plan;
  readonly pki: Pki;
  /** Every member of plan.bans.members by name (each Proxmox node's too: `host`, `host-<node>`). */
  readonly members: Readonly<Partial<Record<BanMemberName, BanMemberTarget>>>;
}

/** Letters and digits only: the secrets go into YAML, JSON and a sourced sh file unquoted-safe. */
const secretOpts = { length: 40, special: false, minLower: 4, minUpper: 4, minNumeric: 4 };
const paths = PRODUCTION_PATHS;

export class BanGrid extends pulumi.ComponentResource {
  /** The services VM's setup (the LAPI and the report gateway). */
  public readonly lapi: pulumi.Resource;
  /** Secret: the key tenants' report tokens are signed with; undefined with reports off. */
  public readonly reportTokenKey?: pulumi.Output<string>;
  /** Every machine and bouncer known to the LAPI. */
  public readonly enrolled: pulumi.Resource;
  private readonly setups: Readonly<Partial<Record<BanMemberName, pulumi.Resource>>>;

  constructor(name: string, args: BanGridArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:bans:BanGrid", name, {}, opts);
    const { plan, pki, members } = args;
    const bans = plan.bans;
    const secret = (what: string) => pulumi.secret(new random.RandomPassword(`${name}-${what}`, secretOpts, { parent: this }).result);
    const agents = bans.members.filter((m) => m.name !== "services");
    const names = banCredentials(bans);
    const machines: Record<string, pulumi.Output<string>> = Object.fromEntries(names.machines.map((n) => [n, secret(`machine-${n}`)]));
    const bouncers: Record<string, pulumi.Output<string>> = Object.fromEntries(names.bouncers.map((n) => [n, secret(`bouncer-${n}`)]));
    const lapiCert = pki.issue(`${name}-lapi`, { commonName: `lapi.${plan.stack}.librerouter`, allowedUses: SERVER_USES, ipAddresses: [bans.lapi.ip], ...plan.pki.server }, { parent: this });

    const missing = bans.members.filter((m) => !members[m.name]).map((m) => m.name);
    if (missing.length) throw new Error(`ban grid: no connection for member(s) ${missing.join(", ")}`);
    const command = (member: BanMemberName, what: string, apply: pulumi.Input<string>, del: pulumi.Input<string> | undefined, dependsOn: readonly pulumi.Resource[]) => {
      const target = members[member]!;
      return remoteScript(`${name}-${member}${what}`, { connection: target.connection, apply, delete: del, target: target.identity, secret: true }, { parent: this, dependsOn: [...target.after, ...dependsOn] });
    };

    const services = bans.members.find((m) => m.name === "services");
    if (!services) throw new Error("ban grid: the plan has no services member");
    const reportPassword = bans.report ? machines[bans.report.machine] : pulumi.output("");
    if (bans.report) this.reportTokenKey = pulumi.secret(new random.RandomPassword(`${name}-report-token-key`, { ...secretOpts, length: 64 }, { parent: this }).result);
    const lapiScript = pulumi
      .all([pki.caCertPem, lapiCert.certPem, lapiCert.privateKeyPem, reportPassword, this.reportTokenKey ?? ""])
      .apply(([caPem, certPem, keyPem, password, tokenKey]) =>
        setupScript(bans, { member: "services", paths, acquisition: { kind: "journal" }, caPem, secrets: {}, lapi: { certPem, keyPem, report: { password, tokens: {}, tokenKey } } }),
      );
    this.lapi = command("services", "", pulumi.secret(lapiScript), teardownScript(bans, { member: "services", paths }), []);

    // The enrolment reads every secret from stdin (never a command line); a changed secret resets that one credential.
    const enrol = pulumi.all([pulumi.all(machines), pulumi.all(bouncers)]).apply(([m, b]) => enrolScript(bans, paths, { machines: m, bouncers: b }, plan.stack));
    this.enrolled = command("services", "-enrol", pulumi.secret(enrol), undefined, [this.lapi]);

    const setups: Partial<Record<BanMemberName, pulumi.Resource>> = { services: this.lapi };
    for (const m of agents) {
      const memberSecrets: pulumi.Output<MemberSecrets> = pulumi.all([machines[m.machine], m.bouncer ? bouncers[m.bouncer] : undefined]).apply(([machinePassword, bouncerKey]) => ({ machinePassword, ...(bouncerKey ? { bouncerKey } : {}) }));
      const script = pulumi.all([pki.caCertPem, memberSecrets]).apply(([caPem, s]) => setupScript(bans, { member: m.name, paths, acquisition: { kind: "journal" }, caPem, secrets: s }));
      setups[m.name] = command(m.name, "", pulumi.secret(script), teardownScript(bans, { member: m.name, paths }), [this.enrolled]);
    }
    this.setups = setups;
    this.registerOutputs({ lapi: bans.lapi.url });
  }

  /** Member `name`'s setup command (what the machine's later setups wait for: apt never runs twice at once there). */
  setupOf(name: BanMemberName): pulumi.Resource {
    const r = this.setups[name];
    if (!r) throw new Error(`ban grid: no member ${name} (members: ${Object.keys(this.setups).join(", ")})`);
    return r;
  }
}

/**
 * The one explicit Proxmox provider. root@pam with a password because VM `args` (the VNC console) are
 * root-only and API tokens are refused for them; SSH (same key as the remote commands) because snippet
 * files are uploaded over SSH, not the API.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import type * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";

export interface ProxmoxProviderArgs {
  readonly plan: Plan;
  /** Secret `proxmoxPassword` (root@pam). */
  readonly password: pulumi.Input<string>;
  /** Secret `sshPrivateKey` (PEM) for snippet uploads as `proxmox.sshUser`; none for the read-only preflight provider. */
  readonly sshPrivateKey?: pulumi.Input<string>;
}

/** `proxmoxve.Provider` named `name`, from the stack's `proxmox.*` config and the two secrets. */
export function proxmoxProvider(name: string, args: ProxmoxProviderArgs, opts?: pulumi.CustomResourceOptions): proxmoxve.Provider {
  const p = args.plan.proxmox;
  return new proxmoxve.Provider(
    name,
    {
      endpoint: p.endpoint,
      username: p.username,
      password: args.password,
      insecure: p.insecure,
      // A cluster: bpg uploads each node's snippets over SSH to that node, at the address the config gives (its
      // management address) rather than one it picks from the node's interfaces through the API.
      ...(args.sshPrivateKey === undefined
        ? {}
        : { ssh: { username: p.sshUser, privateKey: args.sshPrivateKey, ...(args.plan.nodes.length > 1 ? { nodes: args.plan.nodes.map((n) => ({ name: n.name, address: n.mgmtIp })) } : {}) } }),
    },
    opts,
  );
}

/**
 * The SSH connections of the remote commands: one typed `ConnectionArgs` per target, all with the
 * `sshPrivateKey` secret. The VPN servers and the services VM sit on the management bridge, which only the
 * Proxmox host reaches, so their connections jump through the host.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { Plan } from "../plan/types";

export type ConnectionArgs = command.types.input.remote.ConnectionArgs;

/** Guests may still be booting (cloud-init) when their first command runs: retry dialling for ~10 minutes. */
const GUEST_DIAL = { dialErrorLimit: 40, perDialTimeout: 15 } as const;

/** The Proxmox host, reached at the API endpoint's host name as `proxmox.sshUser`. */
export function hostConnection(plan: Plan, sshPrivateKey: pulumi.Input<string>): ConnectionArgs {
  return { host: new URL(plan.config.proxmox.endpoint).hostname, user: plan.config.proxmox.sshUser, privateKey: sshPrivateKey };
}

/**
 * A guest VM at its management address, as root (cloud-init installs the key for root), through the host.
 * `user` is fixed because every guest script writes /etc and runs systemctl.
 */
export function guestConnection(host: ConnectionArgs, mgmtIp: string): ConnectionArgs {
  return {
    host: mgmtIp,
    user: "root",
    privateKey: host.privateKey,
    ...GUEST_DIAL,
    proxy: { host: host.host, user: host.user, privateKey: host.privateKey },
  };
}

/**
 * The OpenSSH public key of `sshPrivateKey`, for cloud-init. Accepts an OpenSSH or a PEM private key. A public
 * key is not a secret, so it is unwrapped: the VM inputs then show which key a guest trusts.
 */
export function sshPublicKey(privateKey: pulumi.Output<string>): pulumi.Output<string> {
  const openssh = (k: string) => k.includes("BEGIN OPENSSH PRIVATE KEY");
  const pub = tls.getPublicKeyOutput({
    privateKeyOpenssh: privateKey.apply((k) => (openssh(k) ? k : undefined)),
    privateKeyPem: privateKey.apply((k) => (openssh(k) ? undefined : k)),
  });
  return pulumi.unsecret(pub.publicKeyOpenssh.apply((k) => k.trim()));
}

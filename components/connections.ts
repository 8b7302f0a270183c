/**
 * The SSH connections of the remote commands: one typed `ConnectionArgs` per target, all with the
 * `sshPrivateKey` secret and a pinned host key. The VPN servers and the services VM sit on the management bridge,
 * which only the Proxmox host reaches, so their connections jump through the host.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { isIpv4 } from "../lib/ipv4";
import type { Plan } from "../plan/types";
import { remoteScript } from "./remote-script";

export type ConnectionArgs = command.types.input.remote.ConnectionArgs;

/**
 * Guests may still be booting (cloud-init) when their first command runs. pulumi-command retries a failed dial up to
 * `dialErrorLimit` times, each attempt bounded by `perDialTimeout` seconds, with a capped back-off between attempts
 * (remote/connection.go): 40 × 15 s is a bound of about 10 minutes of dialling, not an exact duration.
 */
const GUEST_DIAL = { dialErrorLimit: 40, perDialTimeout: 15 } as const;
/** The host is up, but its sshd drops handshakes past MaxStartups (10 unauthenticated): retry those too. */
const HOST_DIAL = { dialErrorLimit: 20, perDialTimeout: 15 } as const;

/** The Proxmox host, reached at the API endpoint's host name as `proxmox.sshUser`, its host key pinned when configured. */
export function hostConnection(plan: Plan, sshPrivateKey: pulumi.Input<string>): ConnectionArgs {
  const p = plan.proxmox;
  return { host: new URL(p.endpoint).hostname, user: p.sshUser, privateKey: sshPrivateKey, ...HOST_DIAL, ...(p.sshHostKey ? { hostKey: p.sshHostKey } : {}) };
}

/**
 * Every node's SSH connection, by node name: the API node's is `hostConnection` (the endpoint's host name, as today),
 * every other node is reached at its management address with its own pinned host key (`nodes[].sshHostKey`).
 */
export function nodeConnections(plan: Plan, sshPrivateKey: pulumi.Input<string>): Readonly<Record<string, ConnectionArgs>> {
  const api = hostConnection(plan, sshPrivateKey);
  return Object.fromEntries(
    plan.nodes.map((n) => [n.name, n.name === plan.host.node ? api : { host: n.mgmtIp, user: plan.proxmox.sshUser, privateKey: sshPrivateKey, ...HOST_DIAL, ...(n.sshHostKey ? { hostKey: n.sshHostKey } : {}) }]),
  );
}

/**
 * A guest VM at its management address, as root (cloud-init installs the key for root), through the host.
 * `user` is fixed because every guest script writes /etc and runs systemctl. `hostKey` is the guest's own key as
 * the host saw it (`guestHostKey`).
 */
export function guestConnection(host: ConnectionArgs, mgmtIp: string, hostKey?: pulumi.Input<string>): ConnectionArgs {
  return {
    host: mgmtIp,
    user: "root",
    privateKey: host.privateKey,
    ...GUEST_DIAL,
    ...(hostKey === undefined ? {} : { hostKey }),
    proxy: { host: host.host, user: host.user, privateKey: host.privateKey, ...HOST_DIAL, ...(host.hostKey === undefined ? {} : { hostKey: host.hostKey }) },
  };
}

/**
 * The script the host runs to learn a guest's SSH host key: waits (≤ 10 min) until the guest's sshd answers on the
 * management bridge, then prints its ed25519 key as `ssh-ed25519 <base64>`. Trust on first use, but through the
 * pinned host and on the host-only management bridge. cloud-init writes a clone's new host keys before sshd starts
 * (cloud-init.service is ordered Before=sshd.service), so the first answer is the final key.
 */
export function renderKeyscanScript(mgmtIp: string): string {
  if (!isIpv4(mgmtIp)) throw new Error(`keyscan: not an IPv4 address: ${mgmtIp}`);
  return `#!/bin/bash
set -euo pipefail
for _ in $(seq 1 120); do
  if key=$(ssh-keyscan -T 5 -t ed25519 ${mgmtIp} 2>/dev/null | awk '$2 == "ssh-ed25519" { print $2 " " $3; exit }') && [[ -n $key ]]; then
    printf '%s\\n' "$key"
    exit 0
  fi
  sleep 5
done
echo "no SSH host key from ${mgmtIp} after 10 minutes" >&2
exit 1
`;
}

/**
 * A command on the host that learns the guest's host key; its stdout pins the guest's connection. `target` (the
 * VM's MAC) makes a rebuilt VM, with new host keys, learn again.
 */
export function guestHostKey(name: string, host: ConnectionArgs, mgmtIp: string, target: pulumi.Input<string | undefined>, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
  const scan = remoteScript(name, { connection: host, apply: renderKeyscanScript(mgmtIp), target }, opts);
  return scan.stdout.apply((s) => s.trim());
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

/**
 * What a real `pulumi up` (not a preview) needs beyond a valid config: a bounded parallelism and a pinned host key.
 * Checked before anything is declared, so an unsafe run creates nothing. Pure: the caller passes what the Pulumi
 * runtime says.
 */
import type { ConfigIssue } from "./errors";

/** What the guards read of the Proxmox host settings (the plan's `proxmox` has them). */
export interface HostAccess {
  readonly endpoint: string;
  readonly sshHostKey?: string;
}

/**
 * Most resource operations at once. The Proxmox host's sshd drops handshakes past MaxStartups (OpenSSH default
 * 10:30:100: 10 unauthenticated connections), and every remote command, its proxy leg to a guest and bpg's snippet
 * uploads land there; clones beyond a few at once meet Proxmox's storage and config locks (bpg#995, #1521). The
 * CLI's default is 4 × its cores (pulumi/pulumi pkg/cmd/pulumi/operations/up.go defaultParallel).
 */
export const MAX_PARALLEL = 8;

export interface RunFacts {
  /** `pulumi preview` (true) or `pulumi up`/`destroy` (false). */
  readonly dryRun: boolean;
  /** The engine's `--parallel` as the Node.js language host passes it (PULUMI_NODEJS_PARALLEL); undefined if not passed. */
  readonly parallel?: number;
}

/** Problems that stop an `up`; none for a preview (it runs no remote command and clones nothing). */
export function deployIssues(host: HostAccess, run: RunFacts): ConfigIssue[] {
  if (run.dryRun) return [];
  const issues: ConfigIssue[] = [];
  if (run.parallel !== undefined && (run.parallel < 1 || run.parallel > MAX_PARALLEL)) {
    issues.push({
      key: "(pulumi up --parallel)",
      message: `${run.parallel > 1_000_000 ? "unbounded" : run.parallel} operations at once would overrun the Proxmox host's sshd (MaxStartups 10) and its clone locks; run \`pulumi up --parallel ${MAX_PARALLEL}\` (or set PULUMI_PARALLEL=${MAX_PARALLEL})`,
    });
  }
  if (!host.sshHostKey) {
    const name = new URL(host.endpoint).hostname;
    issues.push({
      key: "proxmox.sshHostKey",
      message: `is not set: the setup scripts carry private keys and go only to a host whose key is pinned; set it to the key part of \`ssh-keyscan -t ed25519 ${name}\` ("ssh-ed25519 AAAA…"), checked against the host's console (\`cat /etc/ssh/ssh_host_ed25519_key.pub\`)`,
    });
  }
  return issues;
}

/** The run facts from the environment the Node.js language host sets up (sdk/nodejs/cmd/run/index.ts). */
export function parallelFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.PULUMI_NODEJS_PARALLEL;
  if (v === undefined || v === "") return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : undefined;
}

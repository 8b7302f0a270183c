/**
 * The monitoring's certificate figures in a recorded run (components/monitoring.ts): the rows of the textfile a
 * command writes on the services VM, and that command's stdin with those files blanked. A test of a tenant change
 * says which rows came or went and that nothing else of the command changed.
 */
import { type Recorded, reveal, writtenFiles } from "../harness";

const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";
/** The core's (or one stack's) figures: every tenant of the stack and the CA. */
export const CERTS_FILE = `${TEXTFILE_DIR}/lr-certs.prom`;
/** A shard stack's own figures (its tenants only). */
export const shardCertsFile = (shard: string) => `${TEXTFILE_DIR}/lr-certs-${shard}.prom`;

function command(resources: readonly Recorded[], name: string): Recorded {
  const found = resources.filter((r) => r.type === "command:remote:Command" && r.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one command ${name}, found ${found.length}`);
  return found[0];
}

/** The `lr_cert_*` rows of `file` as the command `name` writes it (no file: an error, not an empty list). */
export function certRows(resources: readonly Recorded[], name = "monitoring-services", file = CERTS_FILE): string[] {
  const f = writtenFiles(String(reveal(command(resources, name).inputs.stdin))).get(file);
  if (!f) throw new Error(`${name} writes no ${file}`);
  return f.content.split("\n").filter((l) => l.startsWith("lr_cert_"));
}

/** The command's stdin with every certificate textfile's content blanked: what must not change with the tenants. */
export function stdinWithoutCerts(r: Recorded): string {
  return String(reveal(r.inputs.stdin)).replace(/(lr_write '[^']*\/lr-certs(?:-s[0-9]+)?\.prom' 0[0-7]{3} \S+ <<'LR_B64'\n)[A-Za-z0-9+/=\n]*?LR_B64/g, "$1<certificate figures>\nLR_B64");
}

/**
 * A tenant's row as the mocks make it: bench/fakes.ts issues every certificate at 2026-12-01T00:00:00Z for its
 * `validityPeriodHours`, read from the tenant's recorded certificate.
 */
export function tenantCertRow(resources: readonly Recorded[], key: string): string {
  const cert = resources.find((r) => r.name === `tenant-${key}-cert`);
  const hours = cert?.inputs.validityPeriodHours;
  if (typeof hours !== "number") throw new Error(`tenant-${key}-cert has no validityPeriodHours`);
  return `lr_cert_expiry_timestamp_seconds{kind="tenant",name="${key}",tenant="${key}"} ${Date.parse("2026-12-01T00:00:00Z") / 1000 + hours * 3600}`;
}

/** Rows in `a` that are not in `b`. */
export const rowsMissingFrom = (a: readonly string[], b: readonly string[]) => a.filter((l) => !b.includes(l));

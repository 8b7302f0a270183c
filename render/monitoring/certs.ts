/**
 * The certificate figures only the program knows: when each tenant's client certificate ends (its key never leaves
 * Pulumi's state; the servers hold only its fingerprint). One textfile on the services VM's exporter. Pure text.
 */
import type { ServerName } from "../../plan/types";

/** Text-format label value: no quote, backslash or newline can come from a tenant key, but escape anyway. */
const label = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

/** `lr-certs.prom` (every row the same label names: the textfile collector wants one set per family): `lr_cert_expiry_timestamp_seconds{kind="tenant",tenant=…}` per tenant, from RFC 3339 end times. */
export function certsTextfile(tenants: Readonly<Record<string, string>>, servers: Readonly<Partial<Record<ServerName | "ca", string>>> = {}): string {
  const epoch = (what: string, t: string) => {
    const ms = Date.parse(t);
    if (!Number.isFinite(ms)) throw new Error(`certificate of ${what}: end time ${JSON.stringify(t)} is not RFC 3339`);
    return Math.floor(ms / 1000);
  };
  const rows = [
    ...Object.keys(tenants)
      .sort()
      .map((k) => `lr_cert_expiry_timestamp_seconds{kind="tenant",name="${label(k)}",tenant="${label(k)}"} ${epoch(k, tenants[k])}`),
    ...Object.entries(servers)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .sort()
      .map(([k, t]) => `lr_cert_expiry_timestamp_seconds{kind="${k === "ca" ? "ca" : "server"}",name="${label(k)}",tenant=""} ${epoch(k, t)}`),
  ];
  return `# HELP lr_cert_expiry_timestamp_seconds When the certificate ends (epoch); written by pulumi up.
# TYPE lr_cert_expiry_timestamp_seconds gauge
${rows.join("\n")}
`;
}

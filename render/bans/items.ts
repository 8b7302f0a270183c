/**
 * Our own CrowdSec items (Debian's hub has no OpenVPN parser, and its bind9 parser misses BIND 9.18's recursion
 * denial): parsers, the OpenVPN scenario sized from `bans`, the UDP flood scenario on LR-IN's kernel lines, and the
 * allowlist parser. Verified with `cscli explain` on real OpenVPN 2.6.14 and BIND 9.18 lines (issue 11 research), and
 * the kernel's lines for LR-IN's LOG rules in the lab (check ban-probe, ban-udp-flood).
 */
import type { BansPlan } from "../../plan/bans";
import { KERNEL_LOG_PREFIX, KERNEL_LOG_RATES } from "./kernel-log";

/** OpenVPN 2.6 (verb 3) refusals → meta.log_type openvpn_{tls_crypt,tls,auth}_fail / openvpn_tcp_garbage / openvpn_tcp_conn. */
export const OPENVPN_PARSER = `# OpenVPN 2.6 server refusals (syslog lines of program openvpn); rendered by librerouter-hosting.
onsuccess: next_stage
filter: "evt.Parsed.program == 'openvpn'"
name: lr/openvpn-logs
description: "Parse OpenVPN 2.6 server refusals"
pattern_syntax:
  OVPN_PEER: '(%{DATA:ovpn_cn}/)?%{IPV4:source_ip}:%{INT:source_port}'
nodes:
  - grok:
      pattern: '^(%{OVPN_PEER} )?TLS Error: (can not extract tls-crypt-v2 client key|tls-crypt unwrapping failed|could not determine wrapping) from \\[AF_INET\\]%{IPV4:source_ip}:%{INT:source_port}'
      apply_on: message
    statics:
      - meta: log_type
        value: openvpn_tls_crypt_fail
  - grok:
      pattern: '^%{OVPN_PEER} TLS Error: TLS handshake failed'
      apply_on: message
    statics:
      - meta: log_type
        value: openvpn_tls_fail
  - grok:
      pattern: '^%{OVPN_PEER} TLS Auth Error: '
      apply_on: message
    statics:
      - meta: log_type
        value: openvpn_auth_fail
  - grok:
      pattern: '^%{OVPN_PEER} WARNING: Bad encapsulated packet length'
      apply_on: message
    statics:
      - meta: log_type
        value: openvpn_tcp_garbage
  - grok:
      pattern: '^TCP connection established with \\[AF_INET\\]%{IPV4:source_ip}:%{INT:source_port}'
      apply_on: message
    statics:
      - meta: log_type
        value: openvpn_tcp_conn
statics:
  - meta: service
    value: openvpn
  - meta: source_ip
    expression: "evt.Parsed.source_ip"
`;

/** BIND 9.18 denied recursion/cache queries and transfers → meta.log_type bind9_denied (the vendored bind9-refused scenario's input). */
export const BIND_PARSER = `# BIND 9.18 refusals; rendered by librerouter-hosting.
onsuccess: next_stage
filter: "evt.Parsed.program == 'named'"
name: lr/bind9-denied
description: "BIND 9.18 denied queries and transfers"
grok:
  pattern: '^client @0x[0-9a-fA-F]+ %{IPV4:source_ip}#%{INT}( \\(%{DATA}\\))?: (view \\S+: )?(query \\(cache\\) |query |zone transfer |bad zone transfer request: )''%{DATA:dns_query}'' .*denied'
  apply_on: message
statics:
  - meta: service
    value: bind9
  - meta: log_type
    value: bind9_denied
  - meta: source_ip
    expression: "evt.Parsed.source_ip"
`;

/**
 * The console gateway's wrong passwords (render/scripts/lr-console-web.py, its auth log format, as the journal shows
 * its stderr under SyslogIdentifier lr-console-web) → meta.log_type console_auth_fail, source_ip = the tenant
 * client's real address (a failure whose address the gateway could not tell, `client=unknown`, is not parsed: no ban).
 */
export const CONSOLE_PARSER = `# The console gateway's wrong passwords; rendered by librerouter-hosting.
onsuccess: next_stage
filter: "evt.Parsed.program == 'lr-console-web'"
name: lr/console-logs
description: "Parse the browser console gateway's login failures"
grok:
  pattern: 'lr-console login-failed tenant=%{NOTSPACE:tenant} tunnel=%{IPV4:tunnel_ip} client=%{IPV4:source_ip} failures=%{INT:failures}'
  apply_on: message
statics:
  - meta: service
    value: lr-console
  - meta: log_type
    value: console_auth_fail
  - meta: source_ip
    expression: "evt.Parsed.source_ip"
`;

/** A leaky bucket at the grid's own threshold: `retries` events from one address within about findTime. */
function bruteforceScenario(bans: BansPlan, what: string, name: string, description: string, filter: string, service: string): string {
  const s = bans.scenario;
  return `# ${s.retries} ${what} from one address within ~${s.capacity + 1} × ${s.leakspeed} ban it; rendered by librerouter-hosting.
type: leaky
name: ${name}
description: "${description}"
filter: "${filter}"
groupby: evt.Meta.source_ip
capacity: ${s.capacity}
leakspeed: ${s.leakspeed}
blackhole: ${s.blackhole}
labels:
  service: ${service}
  type: bruteforce
  remediation: true
`;
}

/** Wrong console passwords from one client address: the grid's own threshold, as for OpenVPN's refusals. */
export function consoleScenario(bans: BansPlan): string {
  return bruteforceScenario(bans, "wrong console passwords", "lr/console-bf", "Console gateway: repeated wrong passwords from one tenant client", "evt.Meta.log_type == 'console_auth_fail'", "lr-console");
}

/** The OpenVPN scenarios: `retries` refusals within about findTime (capacity retries−1, one leak per findTime/retries). */
export function openvpnScenario(bans: BansPlan): string {
  return `${bruteforceScenario(
    bans,
    "OpenVPN refusals",
    "lr/openvpn-bf",
    "OpenVPN: repeated tls-crypt, TLS or auth refusals from one address",
    "evt.Meta.log_type in ['openvpn_tls_crypt_fail', 'openvpn_tls_fail', 'openvpn_auth_fail', 'openvpn_tcp_garbage']",
    "openvpn",
  )}---
# A flood of new TCP connections: more than 30 within a few seconds.
type: leaky
name: lr/openvpn-tcp-flood
description: "OpenVPN: flood of new TCP connections from one address"
filter: "evt.Meta.log_type == 'openvpn_tcp_conn'"
groupby: evt.Meta.source_ip
capacity: 30
leakspeed: 1s
blackhole: 1m
labels:
  service: openvpn
  type: flood
  remediation: true
`;
}

/** The UDP flood scenario's name (what its alerts carry). */
export const UDP_FLOOD_SCENARIO = "lr/udp-flood";

/**
 * A UDP flood on the OpenVPN port: LR-IN logs a source's new flows only above its rate (render/bans/kernel-log.ts), so
 * each `lr-flood:` line is already excess; 6 of them from one address within a few seconds ban it. The lines reach
 * us through the vendored iptables-logs parser (iptables_drop, source_ip = SRC=); the vendored scan scenario sees
 * them too, but all on one port, which its distinct-port bucket counts once.
 */
export function udpFloodScenario(bans: BansPlan): string {
  const r = KERNEL_LOG_RATES.flood;
  return `# More than ${r.above} new UDP flows/s to the OpenVPN port from one address (after a burst of ${r.burst}); rendered by librerouter-hosting.
type: leaky
name: ${UDP_FLOOD_SCENARIO}
description: "OpenVPN UDP port: flood of new flows from one address (kernel ${KERNEL_LOG_PREFIX.flood.trim()} lines)"
filter: "evt.Meta.log_type == 'iptables_drop' && evt.Parsed.message contains '${KERNEL_LOG_PREFIX.flood}'"
groupby: evt.Meta.source_ip
capacity: 5
leakspeed: 1s
blackhole: ${bans.scenario.blackhole}
labels:
  service: openvpn
  type: flood
  remediation: true
`;
}

/** The agents' whitelist: never an alert for the protected addresses and the allowlist. */
export function allowlistParser(bans: BansPlan): string {
  return `# Never raise an alert for these (the service's own addresses, management, bans.allowlist); rendered by librerouter-hosting.
name: lr/allowlist
description: "librerouter-hosting allowlist"
whitelist:
  reason: "librerouter-hosting allowlist"
  cidr:
${bans.neverBan.map((c) => `    - "${c}"`).join("\n")}
`;
}

/** Our items by path under the config dir. */
export function ownItems(bans: BansPlan, sources: readonly string[]): Record<string, string> {
  return {
    "parsers/s02-enrich/lr-allowlist.yaml": allowlistParser(bans),
    ...(sources.includes("openvpn") ? { "parsers/s01-parse/lr-openvpn-logs.yaml": OPENVPN_PARSER, "scenarios/lr-openvpn-bf.yaml": openvpnScenario(bans) } : {}),
    ...(sources.includes("kernel") ? { "scenarios/lr-udp-flood.yaml": udpFloodScenario(bans) } : {}),
    ...(sources.includes("named") ? { "parsers/s01-parse/lr-bind9-denied.yaml": BIND_PARSER } : {}),
    ...(sources.includes("console") ? { "parsers/s01-parse/lr-console-logs.yaml": CONSOLE_PARSER, "scenarios/lr-console-bf.yaml": consoleScenario(bans) } : {}),
  };
}

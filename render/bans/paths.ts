/**
 * Where the ban grid's files live on a machine. Production uses its own config tree beside Debian's (Debian's
 * config.yaml and profiles.yaml are conffiles); the e2e test renders the same files under a scratch root.
 */
export interface BanPaths {
  /** CrowdSec config dir: config.yaml, credentials, acquis.yaml, parsers/, scenarios/, profiles.yaml. */
  readonly etc: string;
  /** LAPI database and agent state. */
  readonly data: string;
  /** Debian's vendored hub (`/var/lib/crowdsec/hub/*` → `/usr/share/crowdsec/hub/*`): items are linked from here. */
  readonly hub: string;
  /** The grok patterns Debian ships. */
  readonly patterns: string;
  /** The service CA that signed the LAPI's certificate (every client verifies against it). */
  readonly caCert: string;
  /** The LAPI's certificate and key (services VM only). */
  readonly lapiCert: string;
  readonly lapiKey: string;
  /** The bouncer's config (holds its API key) and the gateway's config and state. */
  readonly bouncerConfig: string;
  readonly reportConfig: string;
  readonly reportState: string;
  /** Where the static helper scripts are installed. */
  readonly bin: string;
}

export const PRODUCTION_PATHS: BanPaths = {
  etc: "/etc/crowdsec/lr",
  data: "/var/lib/crowdsec/lr",
  hub: "/var/lib/crowdsec/hub",
  patterns: "/etc/crowdsec/patterns",
  caCert: "/etc/crowdsec/lr/tls/ca.crt",
  lapiCert: "/etc/crowdsec/lr/tls/lapi.crt",
  lapiKey: "/etc/crowdsec/lr/tls/lapi.key",
  bouncerConfig: "/etc/crowdsec/bouncers/lr-firewall-bouncer.yaml",
  reportConfig: "/etc/crowdsec/lr/report.json",
  reportState: "/var/lib/lr-ban-report/state.json",
  bin: "/usr/local/lib/librerouter",
};

/**
 * The kernel log lines the ban grid reads on the VPN servers (issue 11: port probes and UDP floods that OpenVPN never
 * logs): LR-IN's rate-limited LOG rules on the public side (render/dataplane.ts puts them in), and the prefixes and
 * rates the agents' items (./items.ts) are sized from. The LOG rules never accept or drop anything. Pure.
 */

/** The prefixes of our LOG rules (the kernel writes `<prefix>IN=… SRC=… DST=… PROTO=… SPT=… DPT=…`). */
export const KERNEL_LOG_PREFIX = { probe: "lr-probe: ", flood: "lr-flood: " } as const;

/**
 * Rates (per second) and bursts. probe: per source up to 10/s (a scan of 16 ports, the vendored scenario's
 * threshold, fits in its burst); flood: what a source sends above 20 new flows/s after a burst of 40, far above a
 * client's reconnects. Each rule also has a global cap, so a spoofed flood from many sources cannot fill the journal.
 */
export const KERNEL_LOG_RATES = {
  probe: { perSource: 10, burst: 30 },
  flood: { above: 20, burst: 40 },
  global: { limit: 50, burst: 100 },
} as const;

/** The global cap of one rule (`-m limit`), after the per-source test. */
function globalCap(): string {
  const g = KERNEL_LOG_RATES.global;
  return `-m limit --limit ${g.limit}/sec --limit-burst ${g.burst}`;
}

/** `-j LOG` with our prefix, in iptables-save's form (the prefix quoted: it ends with a space). */
function logTarget(prefix: string): string {
  return `-j LOG --log-prefix "${prefix}"`;
}

/**
 * The LOG line for new connections to `publicIp` on `iface` that nothing accepted (the rule goes right before the
 * public drop): one line per probe, at most `probe.perSource`/s per source.
 */
export function probeLogRule(chain: string, publicIp: string, iface: string): string {
  const r = KERNEL_LOG_RATES.probe;
  const perSource = `-m hashlimit --hashlimit-upto ${r.perSource}/sec --hashlimit-burst ${r.burst} --hashlimit-mode srcip --hashlimit-name lr-probe`;
  return `-A ${chain} -d ${publicIp}/32 -i ${iface} -m conntrack --ctstate NEW ${perSource} ${globalCap()} ${logTarget(KERNEL_LOG_PREFIX.probe)}`;
}

/**
 * The LOG line for new UDP flows to the OpenVPN port above `flood.above`/s per source (it goes right before that
 * port's accept, which still takes every packet). A hashlimit table that is full drops the packet (the kernel's
 * choice): it holds 8 × its hash size of sources, the same order as the conntrack table a flood like that fills.
 */
export function floodLogRule(chain: string, publicIp: string, iface: string, udpPort: number): string {
  const r = KERNEL_LOG_RATES.flood;
  const perSource = `-m hashlimit --hashlimit-above ${r.above}/sec --hashlimit-burst ${r.burst} --hashlimit-mode srcip --hashlimit-name lr-flood`;
  return `-A ${chain} -d ${publicIp}/32 -i ${iface} -p udp -m udp --dport ${udpPort} -m conntrack --ctstate NEW ${perSource} ${globalCap()} ${logTarget(KERNEL_LOG_PREFIX.flood)}`;
}

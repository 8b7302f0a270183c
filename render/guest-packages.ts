/**
 * The Debian packages a guest script needs, installed only when missing: a stock Debian 12 cloud image has no
 * OpenVPN, iptables or BIND. Pure text (bash), shared by the VPN server setup and the services VM script.
 */

/** What the VPN setup, `lr-dataplane` (ip, iptables*, sysctl, socat) and the hooks call beyond Debian's essentials. */
export const VPN_PACKAGES = ["openvpn", "iptables", "iproute2", "socat", "procps", "nftables"] as const;

/** BIND as resolver and reverse-zone server, named-checkzone, and iptables for the public-side INPUT policy. */
export const SERVICES_PACKAGES = ["bind9", "bind9-utils", "iptables"] as const;

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

/**
 * Bash lines that wait for cloud-init to finish, then `apt-get install` whichever of `packages` dpkg does not
 * list as installed (so a machine that has them, like the lab, never runs apt).
 * - `cloud-init status --wait`: cloud-init's package_upgrade holds the dpkg lock while sshd already answers.
 *   Absent cloud-init is fine; exit 2 is "done with recoverable errors" (cloud-init 23.4 and later); any other
 *   failure (Debian 12's 22.4 reports every error as 1) is only a warning: all we need is that it has finished.
 * - `DPkg::Lock::Timeout=600`: apt waits for a lock still held (unattended-upgrades) instead of failing.
 * apt runs in a subshell with umask 022. Needs `set -euo pipefail`; prints the installed package names, nothing else.
 */
export function ensurePackages(packages: readonly string[]): string {
  for (const p of packages) if (!PACKAGE.test(p)) throw new Error(`not a Debian package name: ${JSON.stringify(p)}`);
  return `if command -v cloud-init >/dev/null 2>&1; then
  ci_rc=0
  cloud-init status --wait >/dev/null 2>&1 || ci_rc=$?
  if [[ $ci_rc -ne 0 && $ci_rc -ne 2 ]]; then
    printf 'warning: cloud-init status --wait exited %s (see /var/log/cloud-init.log); continuing\\n' "$ci_rc" >&2
  fi
fi
LR_MISSING=()
LR_WANT=(${packages.join(" ")})
for pkg in "\${LR_WANT[@]}"; do
  # shellcheck disable=SC2016 # \${Status} is dpkg-query's field, not a shell expansion
  status=$(dpkg-query -W -f='\${Status}' "$pkg" 2>/dev/null) || status=''
  if [[ $status != "install ok installed" ]]; then LR_MISSING+=("$pkg"); fi
done
if ((\${#LR_MISSING[@]})); then
  (
    # Packages' own files and maintainer scripts get Debian's usual umask, not the caller's 077.
    umask 022
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "\${LR_MISSING[@]}" >/dev/null
  )
  printf 'installed: %s\\n' "\${LR_MISSING[*]}"
fi`;
}

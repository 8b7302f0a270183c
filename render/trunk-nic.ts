/**
 * The VPN server's trunk NIC (Proxmox net1, the tenant VLANs). It has no cloud-init ipconfig, so cloud-init
 * leaves it alone: it keeps its predictable name (ens19, …) and stays down. Pinned here by MAC, three ways:
 * - a systemd `.link` file naming it `ifaces.trunk` at every boot. udev applies only the first matching
 *   `.link` file in lexical order: `05-` sorts before cloud-init's networkd `10-cloud-init-*` files and the
 *   `99-default.link` that gives predictable names (Debian 12's cloud-init renders ifupdown and renames the
 *   NICs it configures through udev rules, never this one). `Type=ether` keeps the tenant VLAN links, which
 *   share the trunk's MAC, out of the match.
 * - an ifupdown stanza (`auto`, `manual`, link up) so boot brings it up with no address;
 * - at setup time, a rename now if no interface has the trunk's name yet (found by MAC), then link up.
 * Pure: no `@pulumi/*` import.
 */
import type { SetupFile } from "./shell";
import { shq } from "./shell";
import type { ServerLayout } from "./layout";

/** The NICs of a VPN server VM the setup script must know. */
export interface ServerNics {
  /** MAC of net1, the trunk (the VM's `networkDevices[1].macAddress`), any case. */
  readonly trunkMac: string;
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** The MAC in the guest's spelling (lowercase), or an error naming the parameter and the expected form. */
export function trunkMac(server: string, nics: ServerNics): string {
  const mac = String(nics?.trunkMac ?? "").toLowerCase();
  if (!MAC.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1 || mac === "00:00:00:00:00:00") {
    throw new Error(`setup for ${server}: nics.trunkMac ${JSON.stringify(nics?.trunkMac)} is not a unicast MAC address like bc:24:11:5e:00:01; pass the VM's networkDevices[1].macAddress`);
  }
  return mac;
}

export const TRUNK_LINK_FILE = "05-librerouter-trunk.link";
/** No dot in the name: Debian's `source-directory` skips such files. */
export const TRUNK_IFUPDOWN_FILE = "librerouter-trunk";

/** The `.link` file and the ifupdown stanza for the trunk with MAC `mac`. */
export function trunkNicFiles(layout: ServerLayout, mac: string): SetupFile[] {
  const t = layout.ifaces.trunk;
  return [
    {
      path: `${layout.networkLinkDir}/${TRUNK_LINK_FILE}`,
      mode: "0644",
      content: `# Rendered by librerouter-hosting, do not edit.
# The trunk NIC (tenant VLANs): named ${t} by its MAC at every boot.
[Match]
MACAddress=${mac}
Type=ether

[Link]
Name=${t}
`,
    },
    {
      path: `${layout.ifupdownDir}/${TRUNK_IFUPDOWN_FILE}`,
      mode: "0644",
      content: `# Rendered by librerouter-hosting, do not edit.
# The trunk NIC (tenant VLANs, named by ${TRUNK_LINK_FILE}): up at boot, no address of its own.
auto ${t}
iface ${t} inet manual
    up ip link set dev ${t} up
    down ip link set dev ${t} down
`,
    },
  ];
}

/**
 * Bash lines: if no interface is named the trunk yet, the one non-VLAN interface with the trunk's MAC is
 * renamed; an interface that has the name but another MAC is an error (the NIC order is not what the VM
 * declares). Then the trunk goes up.
 */
export function trunkRenameLines(layout: ServerLayout, mac: string): string {
  const t = layout.ifaces.trunk;
  return `TRUNK=${shq(t)}
TRUNK_MAC=${mac}
links=$(/usr/sbin/ip -o -d link show)
found=()
have=''
while IFS= read -r line; do
  name=\${line#*: }
  name=\${name%%: *}
  name=\${name%%@*}
  if [[ $name == "$TRUNK" ]]; then have=$line; fi
  if [[ $line == *" link/ether $TRUNK_MAC "* && $line != *" vlan protocol "* ]]; then found+=("$name"); fi
done <<<"$links"
if [[ -n $have ]]; then
  if [[ $have != *" link/ether $TRUNK_MAC "* ]]; then
    echo "interface $TRUNK exists but has not the trunk's MAC $TRUNK_MAC (check the VM's NIC order: net1 is the trunk)" >&2
    exit 1
  fi
elif [[ \${#found[@]} -eq 1 ]]; then
  /usr/sbin/ip link set dev "\${found[0]}" down
  /usr/sbin/ip link set dev "\${found[0]}" name "$TRUNK"
  printf 'trunk: %s renamed %s\\n' "\${found[0]}" "$TRUNK"
else
  echo "no single interface with the trunk's MAC $TRUNK_MAC (found \${#found[@]}): is net1 attached?" >&2
  exit 1
fi
/usr/sbin/ip link set dev "$TRUNK" up`;
}

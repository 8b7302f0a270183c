/**
 * The host side of the tenant consoles: the serial bridge (one service on the Proxmox host that holds every
 * tenant VM's `serial0` socket and shares it with the web gateways on the two VPN servers) and the rotation of
 * a tenant's VNC password on its running QEMU. Config, systemd unit and the stdin scripts of the host's remote
 * commands; the programs themselves are `render/scripts/lr-serial-bridge.py` and `lr-vnc-password.py`.
 * Pure: no `@pulumi/*` import.
 */
import ipaddr from "ipaddr.js";
import { scriptFile } from "./script-file";
import { LR_WRITE_FN, assertPath, scriptHead, shq, writeFile } from "./shell";
import { SANDBOX_LINES } from "./systemd-sandbox";

/** `lr-serial-bridge.py serve CONFIG | attach VMID [--config CONFIG]`, verbatim. */
export const SERIAL_BRIDGE_PY = scriptFile("lr-serial-bridge.py");
/** `lr-vnc-password.py VMID PASSWORD-FILE [--qmp-dir DIR] [--display ID]`, verbatim. */
export const VNC_PASSWORD_PY = scriptFile("lr-vnc-password.py");

/** The bridge's unit on the host. */
export const SERIAL_BRIDGE_UNIT = "librerouter-serial-bridge.service";
/** The bridge's TCP port (below Proxmox's own VNC proxy range 5900-6000). */
export const SERIAL_BRIDGE_PORT = 5899;
/** Where qemu-server puts each VM's sockets (`<vmid>.serial0`, `<vmid>.qmp`). */
export const QEMU_SERVER_RUN_DIR = "/var/run/qemu-server";

/** Where the bridge's files go on the host. */
export interface SerialBridgePaths {
  /** The program: `<libDir>/lr-serial-bridge.py`. Default /usr/local/lib/librerouter. */
  readonly libDir: string;
  /** Its config: `<confDir>/serial-bridge.json`. Default /etc/librerouter. */
  readonly confDir: string;
  /** The unit: `<systemdDir>/librerouter-serial-bridge.service`. Default /etc/systemd/system. */
  readonly systemdDir: string;
}

export const PRODUCTION_SERIAL_BRIDGE_PATHS: SerialBridgePaths = {
  libDir: "/usr/local/lib/librerouter",
  confDir: "/etc/librerouter",
  systemdDir: "/etc/systemd/system",
};

/** The installed program, config and unit file. */
export function serialBridgeFiles(paths: SerialBridgePaths): { program: string; config: string; unit: string } {
  const files = { program: `${paths.libDir}/lr-serial-bridge.py`, config: `${paths.confDir}/serial-bridge.json`, unit: `${paths.systemdDir}/${SERIAL_BRIDGE_UNIT}` };
  for (const p of Object.values(files)) assertPath(p);
  return files;
}

export interface SerialBridgeConfigArgs {
  /** The host's management address; the bridge also listens on 127.0.0.1 (for `attach`). */
  readonly mgmtIp: string;
  /** TCP port on both addresses. Default SERIAL_BRIDGE_PORT (5899). */
  readonly port?: number;
  /** Who may connect: the two VPN servers' management addresses (127.0.0.1 is always added). */
  readonly allowFrom: readonly string[];
  /** Lowest tenant VMID. */
  readonly vmidMin: number;
  /** Highest tenant VMID. */
  readonly vmidMax: number;
  /** VMIDs inside the range that are not tenants (VPN servers, services VM, templates). */
  readonly exclude: readonly number[];
  /** Where QEMU's serial sockets are. Default QEMU_SERVER_RUN_DIR. */
  readonly socketDir?: string;
  /** Output kept per VM and replayed to a viewer who attaches. Default 65536. */
  readonly bufferBytes?: number;
  /** Retry interval for a VM whose socket does not answer. Default 2. */
  readonly rescanSeconds?: number;
}

function ipv4(value: string, what: string): string {
  if (!ipaddr.IPv4.isValidFourPartDecimal(value)) throw new Error(`serial bridge: ${what} ${JSON.stringify(value)} is not an IPv4 address`);
  return value;
}

/** The bridge's config file (JSON, ends in a newline): the host's management address and loopback, the VPN servers' addresses and loopback. */
export function serialBridgeConfig(args: SerialBridgeConfigArgs): string {
  const port = args.port ?? SERIAL_BRIDGE_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`serial bridge: port ${port} is not a TCP port`);
  if (!Number.isInteger(args.vmidMin) || !Number.isInteger(args.vmidMax) || args.vmidMin < 100 || args.vmidMin > args.vmidMax) {
    throw new Error(`serial bridge: VMID range ${args.vmidMin}-${args.vmidMax} is not min <= max with min >= 100`);
  }
  for (const x of args.exclude) if (!Number.isInteger(x)) throw new Error(`serial bridge: excluded VMID ${x} is not an integer`);
  const socketDir = args.socketDir ?? QEMU_SERVER_RUN_DIR;
  assertPath(socketDir);
  const bufferBytes = args.bufferBytes ?? 65536;
  if (!Number.isInteger(bufferBytes) || bufferBytes < 0 || bufferBytes > 1 << 24) throw new Error(`serial bridge: bufferBytes ${bufferBytes} is not 0 … 16 MiB`);
  const rescanSeconds = args.rescanSeconds ?? 2;
  if (!(rescanSeconds >= 0.05 && rescanSeconds <= 3600)) throw new Error(`serial bridge: rescanSeconds ${rescanSeconds} is not 0.05 … 3600`);
  const mgmt = ipv4(args.mgmtIp, "mgmtIp");
  const allow = [...new Set([...args.allowFrom.map((a) => ipv4(a, "allowFrom")), "127.0.0.1"])];
  const exclude = [...new Set(args.exclude)].filter((x) => x >= args.vmidMin && x <= args.vmidMax).sort((a, b) => a - b);
  const config = {
    listen: [...new Set([mgmt, "127.0.0.1"])],
    port,
    allowFrom: allow,
    vmids: { min: args.vmidMin, max: args.vmidMax, exclude },
    socketDir,
    bufferBytes,
    rescanSeconds,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The bridge's systemd unit. Root (qemu-server's sockets are root's, mode 0755 in a root-only directory) but
 * without any capability: the owner's permission bits are all it uses. Ordered before pve-guests.service so it
 * is there when the VMs boot at host start (QEMU drops serial output nobody reads); it binds its addresses with
 * IP_FREEBIND, so it needs no online network. `allowFrom` adds a kernel-side IP allow-list (systemd's BPF
 * IPAddressAllow) behind the bridge's own check and the host firewall.
 */
export function serialBridgeUnit(paths: SerialBridgePaths, allowFrom?: readonly string[]): string {
  const f = serialBridgeFiles(paths);
  const ipAllow = allowFrom ? [...new Set([...allowFrom.map((a) => ipv4(a, "allowFrom")), "localhost"])] : undefined;
  return `# Rendered by librerouter-hosting, do not edit.
[Unit]
Description=LibreRouter serial console bridge (tenant VMs' serial0 for the console gateways)
After=network.target
Before=pve-guests.service
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=/usr/bin/python3 ${f.program} serve ${f.config}
Restart=always
RestartSec=2
User=root
CapabilityBoundingSet=
AmbientCapabilities=
${SANDBOX_LINES}
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
UMask=0077
${ipAllow ? `IPAddressDeny=any\nIPAddressAllow=${ipAllow.join(" ")}\n` : ""}
[Install]
WantedBy=multi-user.target
`;
}

export interface SerialBridgeScriptArgs {
  readonly config: SerialBridgeConfigArgs;
  /** Default PRODUCTION_SERIAL_BRIDGE_PATHS. */
  readonly paths?: SerialBridgePaths;
}

/**
 * The two stdin scripts of the host's serial bridge command. apply: writes the program, its config and unit
 * (atomic, unchanged files untouched), enables and starts the unit, restarts it only when a file changed and it
 * was already running. delete: stops and disables the unit and removes exactly those three files. Both
 * idempotent. Env `LR_SERVICES=systemd|none` (default systemd; `none` = the lab: files only, no systemctl).
 */
export function serialBridgeScripts(args: SerialBridgeScriptArgs): { apply: string; delete: string } {
  const paths = args.paths ?? PRODUCTION_SERIAL_BRIDGE_PATHS;
  const f = serialBridgeFiles(paths);
  const config = serialBridgeConfig(args.config);
  const unit = serialBridgeUnit(paths, [...args.config.allowFrom]);
  const head = (what: string) => scriptHead(`${what} of the serial console bridge`, true);
  const apply = `${head("Install")}
${LR_WRITE_FN}

${writeFile({ path: f.program, mode: "0755", content: SERIAL_BRIDGE_PY }, "root:root")}
${writeFile({ path: f.config, mode: "0644", content: config }, "root:root")}
${writeFile({ path: f.unit, mode: "0644", content: unit }, "root:root")}
if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  if (( \${#CHANGED[@]} )) && systemctl is-active --quiet ${SERIAL_BRIDGE_UNIT}; then
    systemctl restart ${SERIAL_BRIDGE_UNIT}
  fi
  systemctl enable --now ${SERIAL_BRIDGE_UNIT}
fi
printf 'serial bridge: %s files changed (%s)\\n' "\${#CHANGED[@]}" "$LR_SERVICES"
`;
  const del = `${head("Removal")}
if [[ $LR_SERVICES == systemd && -e ${shq(f.unit)} ]]; then
  systemctl disable --now ${SERIAL_BRIDGE_UNIT}
fi
rm -f ${shq(f.unit)} ${shq(f.config)} ${shq(f.program)}
if [[ $LR_SERVICES == systemd ]]; then systemctl daemon-reload; fi
printf 'serial bridge: removed\\n'
`;
  return { apply, delete: del };
}

export interface VncRotateArgs {
  /** The tenant VM. */
  readonly vmid: number;
  /** The root-only snippet holding the 8-character password (`<snippets>/vnc-<vmid>.pw`). */
  readonly passwordFile: string;
  /** Where the VM's QMP socket is. Default QEMU_SERVER_RUN_DIR. */
  readonly qmpDir?: string;
  /**
   * Changes whenever the password does, and reveals nothing about it (say, a version the program keeps or the
   * snippet resource's id plus a counter); written as a comment so that a new password is an in-place update of
   * the command. Letters, digits and `._:-` only.
   */
  readonly revision?: string;
}

/**
 * The two stdin scripts of a tenant's password rotation command on the host. apply: sends the snippet file's
 * password to the running VM's tenant display over QMP (the program travels in the script; the password stays
 * in its file), or says the VM is not running (QEMU reads the file at its next start). It must run after the
 * snippet file is written. delete: nothing to undo (the password lives in the file and in QEMU's memory, which
 * go with the VM), so it only says so.
 */
export function vncRotateScripts(args: VncRotateArgs): { apply: string; delete: string } {
  if (!Number.isInteger(args.vmid) || args.vmid < 100) throw new Error(`vnc password: VMID ${args.vmid} is not a VMID`);
  assertPath(args.passwordFile);
  const qmpDir = args.qmpDir ?? QEMU_SERVER_RUN_DIR;
  assertPath(qmpDir);
  if (args.revision !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(args.revision)) throw new Error(`vnc password: revision ${JSON.stringify(args.revision)} must be letters, digits and ._:- only`);
  if (VNC_PASSWORD_PY.includes("\nLR_PY\n")) throw new Error("lr-vnc-password.py holds its own heredoc delimiter");
  const head = (what: string) => scriptHead(`${what} of the console password of VM ${args.vmid}`);
  const revision = args.revision === undefined ? "" : `# Password revision: ${args.revision}\n`;
  const apply = `${head("Rotation")}${revision}/usr/bin/python3 - ${args.vmid} ${shq(args.passwordFile)} --qmp-dir ${shq(qmpDir)} --display tenant <<'LR_PY'
${VNC_PASSWORD_PY}LR_PY
`;
  const del = `${head("Removal")}printf 'vm %s: console password rotation removed; nothing to undo\\n' ${args.vmid}
`;
  return { apply, delete: del };
}

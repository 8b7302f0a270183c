/**
 * The systemd sandbox lines every long-running service of ours carries (systemd.exec(5)): no new privileges, a
 * read-only system, no home, private /tmp and /dev, kernel and cgroup settings out of reach, other processes
 * invisible. Each unit adds what it needs beyond (address families, capabilities, system-call filter). Pure text.
 */
export const SANDBOX_LINES = `NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible`;

/** Ids derived from slots (VLAN, VNC display/port, routing table, VMID) that collide or leave their range; exact messages. */
import { baseConfig, configError, type Fixture, withChange } from "./fixture";

/** The mutation of the base config, and the exact text the user sees, line by line. */
type Row = [name: string, mutate: (c: Fixture) => void, text: string[]];

const rows: Row[] = [
  [
    "VLAN id above 4094 for a named tenant",
    (c) => {
      c.network.vlanBase = 4000; c.numberedTenants.count = 0; c.tenants.beta.slot = 95;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 95; VLAN id network.vlanBase + slot = 4095 is above 4094 (slots up to 94 fit); lower network.vlanBase (now 4000), or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "VLAN id above 4094 for numbered tenants (one line for the range)",
    (c) => {
      c.network.vlanBase = 4085;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:numberedTenants: tenants \"t10\" (slot 10) to \"t14\" (slot 14), 5 in all; at slot 10: VLAN id network.vlanBase + slot = 4095 is above 4094 (slots up to 9 fit); lower network.vlanBase (now 4085), or leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)",
    ],
  ],
  [
    "vlanBase above 4094",
    (c) => {
      c.network.vlanBase = 5000;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.vlanBase: got 5000; must be ≤ 4094",
    ],
  ],
  [
    "VNC port inside Proxmox's 5900\u20136000",
    (c) => {
      c.network.vncDisplayBase = 0;
    },
    [
      'stack "test": config has 3 problems (nothing was created):',
      "  - librerouter-hosting:tenants.acme.slot: got 1; VNC display 1 (port 5901) collides with Proxmox's own VNC consoles (5900–6000); change network.vncDisplayBase (now 0), or choose another slot for tenant \"acme\"",
      "  - librerouter-hosting:tenants.beta.slot: got 2; VNC display 2 (port 5902) collides with Proxmox's own VNC consoles (5900–6000); change network.vncDisplayBase (now 0), or choose another slot for tenant \"beta\"",
      "  - librerouter-hosting:numberedTenants: tenants \"t10\" (slot 10) to \"t14\" (slot 14), 5 in all; at slot 10: VNC display 10 (port 5910) collides with Proxmox's own VNC consoles (5900–6000); change network.vncDisplayBase (now 0), or leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)",
    ],
  ],
  [
    "VNC port 8006 (Proxmox API)",
    (c) => {
      c.network.vncDisplayBase = 2105;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.slot: got 1; VNC display 2106 (port 8006) collides with the Proxmox API (8006); change network.vncDisplayBase (now 2105), or choose another slot for tenant \"acme\"",
    ],
  ],
  [
    "VNC port in Proxmox migration range 60000\u201360050",
    (c) => {
      c.network.vncDisplayBase = 54149;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.slot: got 1; VNC display 54150 (port 60050) collides with Proxmox live migration (60000–60050); change network.vncDisplayBase (now 54149), or choose another slot for tenant \"acme\"",
    ],
  ],
  [
    "VNC port above 65535",
    (c) => {
      c.network.vncDisplayBase = 59000; c.tenants.beta = { slot: 636, publicIp: "198.51.100.200" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 636; VNC port 5900 + network.vncDisplayBase + slot = 65536 is above 65535; lower network.vncDisplayBase (now 59000), or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "reserved routing table id (tableBase 100, slot 153 \u2192 253)",
    (c) => {
      c.network.tableBase = 100; c.tenants.beta.slot = 153;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 153; routing table id network.tableBase + slot = 253 is reserved by the kernel (253 default, 254 main, 255 local); set network.tableBase (now 100) to 1000 or more, or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "reserved routing table id 255",
    (c) => {
      c.network.tableBase = 245;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:numberedTenants: tenant \"t10\" (slot 10): routing table id network.tableBase + slot = 255 is reserved by the kernel (253 default, 254 main, 255 local); set network.tableBase (now 245) to 1000 or more, or leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)",
    ],
  ],
  [
    "tenant VMID equal to the template's",
    (c) => {
      c.template = { vmid: 1002 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 2; VMID network.vmidBase + slot = 1002 is taken by template.vmid; change network.vmidBase (now 1000) or template.vmid, or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "tenant VMID equal to a VPN server's",
    (c) => {
      c.vpn = { vmids: [1001, 201] };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.slot: got 1; VMID network.vmidBase + slot = 1001 is taken by vpn.vmids.0; change network.vmidBase (now 1000) or vpn.vmids.0, or choose another slot for tenant \"acme\"",
    ],
  ],
  [
    "numbered tenant VMID equal to the services VM's",
    (c) => {
      c.services = { vmid: 1012 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:numberedTenants: tenant \"t12\" (slot 12): VMID network.vmidBase + slot = 1012 is taken by services.vmid; change network.vmidBase (now 1000) or services.vmid, or leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)",
    ],
  ],
  [
    "VMID below Proxmox's 100",
    (c) => {
      c.network.vmidBase = 50;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.vmidBase: got 50; must be ≥ 100",
    ],
  ],
  [
    "services VMID equal to a VPN server's",
    (c) => {
      c.services = { vmid: 200 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:services.vmid: got 200; already used by vpn.vmids.0; every VM needs its own VMID",
    ],
  ],
  [
    "both VPN servers on one VMID",
    (c) => {
      c.vpn = { vmids: [300, 300] };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn.vmids.1: got 300; already used by vpn.vmids.0; every VM needs its own VMID",
    ],
  ],
];

describe("bad slot-derived ids", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    const e = configError(withChange(baseConfig(), mutate));
    expect(e.message).toBe(text.join("\n"));
    // The same lines as issues: the key, then the message.
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual(text.slice(1).map((l) => l.replace(/^ {2}- librerouter-hosting:/, "")));
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});

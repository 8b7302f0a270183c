/** The plan carries every setting the renderers and components need, so nothing downstream reads the config. */
import { readStackFile } from "../../config/load";
import { buildPlan } from "../../plan/build";
import { routingLayout } from "../../plan/routing-layout";
import { baseConfig, withChange } from "../config/fixture";

const minimal = () => buildPlan(readStackFile(".", "minimal"), "minimal");

describe("settings in the plan", () => {
  test("the committed minimal stack: host, templates, bridges, DNS, PKI, consoles, addresses", () => {
    const p = minimal();
    expect(p.profile).toBe("minimal");
    expect(p.proxmox).toEqual({
      endpoint: "https://pve-minimal.example.net:8006/",
      node: "pve1",
      username: "root@pam",
      insecure: false,
      datastore: "local-lvm",
      snippetsDatastore: "local",
      snippetsPath: "/var/lib/vz/snippets",
      sshUser: "root",
    });
    expect(p.templates).toEqual({ vmid: 9000, serverVmid: 9001 });
    expect(p.bridges).toEqual({ public: "vmbr0", private: "vmbr1", management: "vmbr2" });
    expect([p.tunnelSupernet, p.reverseDnsDomain, p.unpinnedPolicy]).toEqual(["10.255.0.0/16", "tenants.minimal.example.net", "enrol"]);
    // 825 days and 30 days, in hours.
    expect(p.pki).toEqual({ client: { validityHours: 19800, renewHours: 720 }, server: { validityHours: 19800, renewHours: 720 } });
    // 5900 + vncDisplayBase 100 + 1 … + maxSlot 3994, without the Proxmox API's 8006.
    expect(p.consolePorts).toEqual([
      { lo: 6001, hi: 8005 },
      { lo: 8007, hi: 9994 },
    ]);
    // Two /24s: 512 addresses, 506 without network, broadcast and gateway of each.
    expect(p.publicAddresses).toEqual({ total: 512, usable: 506 });
    expect(p.services.vm).toEqual({ cores: 1, memoryMb: 1024 });
    for (const s of p.servers) {
      expect([s.vm, s.keepalive, s.pollTimeout, s.ports]).toEqual([{ cores: 2, memoryMb: 1024 }, { interval: 5, timeout: 15 }, 5, { udp: 1194, tcp: 443 }]);
    }
  });

  test("changed VPN, template and host settings reach the plan", () => {
    const p = buildPlan(
      withChange(baseConfig(), (c) => {
        c.vpn = { keepalive: [10, 30], serverPollTimeout: 8, udpPort: 1195, tcpPort: 8443, unpinnedPolicy: "refuse", memoryMb: 2048, cores: 4, clientCertValidityDays: 400, renewBeforeDays: 20 };
        c.template = { createFromImage: true, imageUrl: "https://img.example.net/lr-1.5.qcow2", vmid: 9100 };
        c.services = { memoryMb: 512, cores: 2 };
        Object.assign(c.proxmox, { insecure: true, snippetsDatastore: "nas", snippetsPath: "/mnt/nas/snippets", sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey" });
      }),
      "test",
    );
    expect(p.servers.map((s) => [s.vm, s.keepalive, s.pollTimeout, s.ports, s.instances.map((i) => i.port)])).toEqual([
      [{ cores: 4, memoryMb: 2048 }, { interval: 10, timeout: 30 }, 8, { udp: 1195, tcp: 8443 }, [1195, 8443]],
      [{ cores: 4, memoryMb: 2048 }, { interval: 10, timeout: 30 }, 8, { udp: 1195, tcp: 8443 }, [1195, 8443]],
    ]);
    expect(p.unpinnedPolicy).toBe("refuse");
    expect(p.templates).toEqual({ vmid: 9100, serverVmid: 9001, image: { url: "https://img.example.net/lr-1.5.qcow2", fileName: "lr-1.5.qcow2" } });
    expect(p.services.vm).toEqual({ cores: 2, memoryMb: 512 });
    expect([p.proxmox.insecure, p.proxmox.snippetsDatastore, p.proxmox.snippetsPath, p.proxmox.sshHostKey]).toEqual([true, "nas", "/mnt/nas/snippets", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey"]);
    // The server certificates follow the configured lifetime as the clients' do (they were fixed at 825/30 days).
    expect(p.pki.server).toEqual({ validityHours: 400 * 24, renewHours: 20 * 24 });
    expect(p.pki.client).toEqual({ validityHours: 400 * 24, renewHours: 20 * 24 });
  });

  test("each server carries its routing tree: 13 offset bits, 5 levels, two regions, a skeleton up to offset 63", () => {
    const p = minimal();
    const vpn2 = p.servers[1];
    expect(vpn2.routing).toEqual({
      supernet: "10.255.0.0/16",
      hostMgmtIp: "192.168.100.10",
      widths: [1, 3, 3, 3, 3],
      // Leaf: nop + 8 hosts + catch = 10; inner: 8 gotos + catch + 8 children; the top splits in 2.
      regionSizes: [11557, 5777, 721, 89, 10],
      instances: [
        { id: "vpn2-udp", poolBase: 184516608, root: "10.255.128.0/19", region: 1000, gateway: "10.255.128.1" },
        { id: "vpn2-tcp", poolBase: 184532992, root: "10.255.192.0/19", region: 12557, gateway: "10.255.192.1" },
      ],
      // Slot 50 sits at offset 51: rounded up to a whole 64-block.
      limit: 63,
    });
  });

  test("a tenant beyond what the routing tree covers is refused, naming it", () => {
    const p = minimal();
    const far = [{ ...p.tenants[0], key: "far", slot: 9000, tunnelIps: { ...p.tenants[0].tunnelIps, "vpn1-udp": "10.255.35.41" } }];
    expect(() => routingLayout({ tunnelSupernet: p.tunnelSupernet, hostMgmtIp: p.host.mgmtIp }, p.servers[0].instances, far)).toThrow(
      'tenant "far" (slot 9000) has tunnel IP 10.255.35.41: the routing tree covers pool offsets below 8192 only (slots ≤ 8190)',
    );
  });
});

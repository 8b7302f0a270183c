/**
 * What every VM of ours shares with the provider: clone retries, no package upgrade racing our first apt-get, and
 * the identity a remote command pins itself to. Plus the infrastructure VM (a VPN server or the services VM): a full
 * clone of the Debian template with cloud-init.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, VmSize } from "../plan/types";

/**
 * bpg retries a clone whose error is transient (HTTP 5xx, "got timeout" from a storage or config lock:
 * proxmox/retry IsTransientAPIError), 10 s apart; its default is 1 attempt. Many clones at once hit those locks.
 */
export const CLONE_RETRIES = 5;

/**
 * Options every VM gets. `clone.*` is ForceNew in bpg (proxmoxtf/resource/vm/vm.go): a new template VMID, or a new
 * retry count, would plan a replacement of every VM cloned before. The clone source matters only at creation, so
 * later changes to it are ignored; a VM is rebuilt deliberately with `pulumi up --replace <urn>`.
 */
export const VM_IGNORE_CHANGES = ["clone"];

/**
 * The VM's identity for the commands that provision it: its first NIC's MAC, which Proxmox draws anew when the VM
 * is created again (the VMID, and so the resource id, stay the same). Undefined while unknown (preview of a new VM).
 */
export function vmIdentity(vm: proxmoxve.VmLegacy): pulumi.Output<string | undefined> {
  return vm.networkDevices.apply((nics) => nics?.[0]?.macAddress || undefined);
}

/** The MAC Proxmox gave NIC `index` (e.g. the VPN server's trunk, which the setup names by it). */
export function vmMac(vm: proxmoxve.VmLegacy, index: number): pulumi.Output<string> {
  return vm.networkDevices.apply((nics) => {
    const mac = nics?.[index]?.macAddress;
    if (!mac) throw new Error(`the provider reported no MAC address for NIC ${index}`);
    return mac;
  });
}

export interface InfraVmArgs {
  readonly plan: Plan;
  /** The node it runs on (ServerPlan.node, Plan.services.node). */
  readonly node: string;
  readonly vmId: number;
  /** `infra-<role>-<stack>`: no tenant VM (`lr-<key>`) can take it. */
  readonly name: string;
  readonly description: string;
  readonly templateVmId: pulumi.Input<number>;
  readonly vm: VmSize;
  /** In guest order (eth0, eth1, …). */
  readonly networkDevices: proxmoxve.types.input.VmLegacyNetworkDevice[];
  /** One per NIC, `{}` for a NIC cloud-init leaves alone. */
  readonly ipConfigs: proxmoxve.types.input.VmLegacyInitializationIpConfig[];
  /** The OpenSSH public key cloud-init installs for root. */
  readonly sshPublicKey: pulumi.Input<string>;
}

/**
 * A Debian 12 cloud-init full clone. Replaced only on purpose, and then delete-before-replace: its VMID is fixed,
 * so a create-before-delete replacement would fail on "VM <id> already exists". With `ha.datastore` its disks live
 * on that shared storage, so the HA manager can restart it on another node.
 *
 * A cluster sets `migrate`: bpg's node_name is ForceNew unless migrate = true (proxmoxtf/resource/vm/vm.go
 * CustomizeDiff ForceNewIf(node_name)), and a rebuilt infrastructure VM gets a new MAC, so every command on it runs
 * again and its tenants' sessions drop. With migrate a new placement is an update: bpg migrates online with local
 * disks (migrateNonHAVM: with-local-disks, online), or through the HA manager for a running HA resource
 * (migrateVM: migrateHAVM); a full clone on local storage migrates (qemu-server QemuMigrate: dir, lvmthin, zfspool…).
 * One node: not set (the node never changes; the registration stays what it was).
 */
export function infraVm(name: string, args: InfraVmArgs, opts: pulumi.CustomResourceOptions): proxmoxve.VmLegacy {
  const { plan } = args;
  const ds = plan.ha.datastore ?? plan.proxmox.datastore;
  return new proxmoxve.VmLegacy(
    name,
    {
      nodeName: args.node,
      ...(plan.nodes.length > 1 ? { migrate: true } : {}),
      vmId: args.vmId,
      name: args.name,
      description: args.description,
      clone: { vmId: args.templateVmId, full: true, datastoreId: ds, retries: CLONE_RETRIES },
      cpu: { cores: args.vm.cores, type: "x86-64-v2-AES" },
      memory: { dedicated: args.vm.memoryMb },
      networkDevices: args.networkDevices,
      initialization: {
        datastoreId: ds,
        ipConfigs: args.ipConfigs,
        userAccount: { username: "root", keys: [args.sshPublicKey] },
        // Proxmox's default ciupgrade=1 makes cloud-final run apt-get dist-upgrade just as our setup's apt-get starts.
        upgrade: false,
      },
      onBoot: true,
      started: true,
    },
    { ...opts, ignoreChanges: VM_IGNORE_CHANGES, deleteBeforeReplace: true },
  );
}

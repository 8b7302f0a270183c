/**
 * The policies of the pack, as a plain array: tests call each `validateResource` / `validateStack`
 * directly, and `index.ts` hands the array to `PolicyPack` (which starts a gRPC server, so it is only
 * constructed there). The checks themselves are the pure functions in `rules.ts`.
 */
import type { Policies, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CAPACITY_OUTPUT } from "../sizing/capacity-output";
import { antiSpoofViolations, tenantNicViolations } from "./antispoof";
import { FILE, LOCAL_COMMAND, REMOTE_COMMAND, STACK, VM } from "./resource-types";
import {
  capacityViolations,
  consoleViolations,
  placementViolations,
  plaintextSecretViolations,
  snippetContentViolations,
  snippetModeViolations,
  tenantVmViolations,
} from "./rules";

const SECRET_TYPES = new Set([VM, FILE, REMOTE_COMMAND, LOCAL_COMMAND]);

const report = (messages: string[], reportViolation: ReportViolation) => messages.forEach((m) => reportViolation(m));

/** No VNC listener on a public or wildcard address, and every console has password auth (render/vnc.ts). */
export const vncConsoleSafe: ResourceValidationPolicy = {
  name: "vnc-console-safe",
  description: "No VNC listener on a public or wildcard address, and every console has password auth: VM args pass render/vnc.ts assertConsoleSafe.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (args.type !== VM) return;
    report(consoleViolations(args.props.kvmArguments), reportViolation);
  },
};

export const tenantVmSafe: ResourceValidationPolicy = {
  name: "tenant-vm-protected-linked-clone",
  description: "Every tenant VM (lr-<key>) has protection: true and is a linked clone (clone.full: false).",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== VM) return;
    const p = args.props;
    report(tenantVmViolations({ name: p.name, protection: p.protection, clone: p.clone }, args.urn), reportViolation);
  },
};

export const vncSnippetMode: ResourceValidationPolicy = {
  name: "vnc-snippet-mode-0600",
  description: "VNC password snippet files (vnc-*) are root-only (fileMode 0600) and hold exactly 8 characters.",
  enforcementLevel: "mandatory",
  // Two validations: the content is unknown during a first preview (a fresh random password), and an
  // unknown value only skips the validation that reads it, so the mode is still checked.
  validateResource: [
    (args, reportViolation) => {
      if (args.type !== FILE) return;
      const p = args.props;
      report(snippetModeViolations({ contentType: p.contentType, fileMode: p.fileMode, sourceRaw: p.sourceRaw && { fileName: p.sourceRaw.fileName } }), reportViolation);
    },
    (args, reportViolation) => {
      if (args.type !== FILE) return;
      report(snippetContentViolations(args.props), reportViolation);
    },
  ],
};

export const noPlaintextSecret: ResourceValidationPolicy = {
  name: "no-plaintext-secret",
  description: "Secret material never sits in a command line, VM args or a world-readable snippet; commands fed keys on stdin keep stdout/stderr secret.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!SECRET_TYPES.has(args.type)) return;
    report(plaintextSecretViolations(args.type, args.props, args.opts.additionalSecretOutputs), reportViolation);
  },
};

export const stackFitsProfile: StackValidationPolicy = {
  name: "stack-fits-profile",
  description: "The stack's hardware holds its tenants: the exported capacity report (sizing/capacity.ts) has no failing line.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const outputs = args.resources.find((r) => r.type === STACK)?.props ?? {};
    report(capacityViolations(outputs[CAPACITY_OUTPUT]), reportViolation);
  },
};

/** Per cluster node: the VMs placed on it (nodeName) at their memory floors fit its RAM (capacity output's nodes). */
export const placementFitsNodes: StackValidationPolicy = {
  name: "placement-fits-nodes",
  description: "On a cluster, the VMs on each node (nodeName) at their memory floors, with QEMU's overhead and the host's and Ceph's reserve, fit that node's RAM.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const outputs = args.resources.find((r) => r.type === STACK)?.props ?? {};
    const vms = args.resources.filter((r) => r.type === VM).map((r) => ({ name: r.props.name, nodeName: r.props.nodeName, template: r.props.template, memory: r.props.memory }));
    report(placementViolations(outputs[CAPACITY_OUTPUT], vms), reportViolation);
  },
};

/** H1: a tenant NIC on the shared public bridge always goes through Proxmox's firewall. */
export const tenantNicFirewalled: ResourceValidationPolicy = {
  name: "tenant-nic-firewalled",
  description: "Every untagged (public bridge) NIC of a tenant VM has firewall: true and is net0, the NIC the ipfilter-net0 IP set filters.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== VM) return;
    report(tenantNicViolations({ name: args.props.name, networkDevices: args.props.networkDevices }, args.urn), reportViolation);
  },
};

/**
 * H1, stack-wide: each tenant VM's anti-spoofing options and IP set exist, and the datacenter and node firewalls are
 * on. The mode is the stack's `tenantNetwork` output (policy/tenant-network-output.ts), as capacity is `capacityReport`.
 */
export const tenantAntiSpoof: StackValidationPolicy = {
  name: "tenant-anti-spoofing",
  description:
    "Each tenant VM has firewall options (enabled, macfilter, ipfilter; no radv; dhcp off, or on in tenantNetwork.mode fixed, where net0 also carries the planned MAC and sits in a security group that drops DHCP server traffic) and an ipfilter-net0 IP set; the datacenter and node firewalls are enabled.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    report(antiSpoofViolations(args.resources.map((r) => ({ type: r.type, urn: r.urn, props: r.props }))), reportViolation);
  },
};

/** Every policy of the pack, in the order reports list them. */
export const policies: Policies = [vncConsoleSafe, tenantVmSafe, tenantNicFirewalled, vncSnippetMode, noPlaintextSecret, stackFitsProfile, placementFitsNodes, tenantAntiSpoof];

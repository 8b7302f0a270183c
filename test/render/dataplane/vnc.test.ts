/** VNC console args: exactly the verified recipe, and the validator the policy pack reuses. */
import { PRODUCTION_HOST_LAYOUT } from "../../../render/layout";
import { assertConsoleSafe, renderKvmArguments, vncPasswordFileName } from "../../../render/vnc";
import { twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const ok = "-object secret,id=p,file=/var/lib/vz/snippets/vnc-1001.pw -vnc 192.168.100.10:101,id=tenant,password-secret=p";

describe("VNC console args", () => {
  it("renders the password-secret recipe on the management address, keyed by the tenant", () => {
    expect(renderKvmArguments(plan, plan.tenants[1], PRODUCTION_HOST_LAYOUT)).toBe(
      "-object secret,id=vncpw-coop-sur,file=/var/lib/vz/snippets/vnc-1002.pw -vnc 192.168.100.10:102,id=tenant,password-secret=vncpw-coop-sur",
    );
    expect(vncPasswordFileName(plan.tenants[0])).toBe("vnc-1001.pw");
  });

  it("accepts the recipe, a unix socket and password=on", () => {
    expect(() => assertConsoleSafe(ok)).not.toThrow();
    expect(() => assertConsoleSafe("-vnc unix:/run/x.vnc,password=on")).not.toThrow();
    expect(() => assertConsoleSafe("-vnc 10.0.0.5:3,password=on")).not.toThrow();
  });

  it.each([
    ["-vnc 0.0.0.0:1,password=on", "console args: -vnc 0.0.0.0:1 listens on 0.0.0.0; use the host's management address"],
    ["-vnc :1,password=on", "console args: -vnc :1 listens on every address; use the host's management address"],
    ["-vnc [::]:1,password=on", "console args: -vnc [::]:1 listens on [::]; use the host's management address"],
    ["-vnc 198.51.100.7:1,password=on", "console args: -vnc 198.51.100.7:1 listens on 198.51.100.7; use the host's management address"],
    ["-vnc pve.example.net:1,password=on", "console args: -vnc pve.example.net:1 listens on pve.example.net; use the host's management address"],
    ["-vnc 192.168.100.10:101,id=tenant", "console args: -vnc 192.168.100.10:101 has no password-secret= (QEMU would offer security type None)"],
    ["-vnc 192.168.100.10:101,password-secret=p", "console args: -vnc 192.168.100.10:101 names password-secret=p but no -object secret,id=p is given"],
    ["-object secret,id=p,data=12345678 -vnc 192.168.100.10:1,password-secret=p", "console args: secret p must come from file=, not data= (it would sit in the VM config)"],
    ["-vnc 192.168.100.10:1,password=on,websocket=5700", "console args: -vnc 192.168.100.10:1 sets websocket=, which opens or moves the listener; remove it"],
    ["-display vnc=0.0.0.0:4,password=on", "console args: -vnc 0.0.0.0:4 listens on 0.0.0.0; use the host's management address"],
    [`${ok} -s`, "console args: -s opens a debug server; remove it"],
    // Allow-list: nothing but the recipe, even what opens no VNC port.
    [`${ok} -monitor unix:/tmp/m,server,nowait`, "console args: -monitor is not part of the console recipe (only -object secret,id=…,file=… and -vnc …); remove it"],
    [`${ok} -chardev socket,id=c,host=0.0.0.0,port=4444`, "console args: -chardev is not part of the console recipe (only -object secret,id=…,file=… and -vnc …); remove it"],
    [`${ok} -display vnc=10.0.0.5:3,password=on`, "console args: -display is not part of the console recipe (only -object secret,id=…,file=… and -vnc …); remove it"],
    ["-object memory-backend-file,id=m,mem-path=/dev/shm -vnc 10.0.0.5:3,password=on", "console args: -object memory-backend-file is not part of the console recipe; remove it"],
    ["-object secret,id=p,file=/var/lib/vz/snippets/vnc-1001.pw,format=base64 -vnc 192.168.100.10:101,password-secret=p", "console args: -object secret sets format=, which the console recipe does not use; remove it"],
    ["-object secret,id=p,file=/x/y,,z -vnc 192.168.100.10:101,password-secret=p", 'console args: -object secret has file="/x/y,z"; only letters, digits and . _ / - are allowed'],
    ["-vnc 10.0.0.5:3,password=on,lossy", "console args: -vnc 10.0.0.5:3 sets lossy=, which the console recipe does not use; remove it"],
    [`${ok} -vnc`, "console args: -vnc has no value; the console args are -object secret,… and -vnc … pairs only"],
  ])("refuses %s", (args, message) => {
    expect(() => assertConsoleSafe(args)).toThrow(message);
  });
});

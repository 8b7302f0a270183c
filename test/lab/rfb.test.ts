import { createServer, Server, Socket } from "node:net";
import { desEncryptBlock } from "../../lab/des";
import { rfbConnect, vncAuthResponse } from "../../lab/rfb";

const CHALLENGE = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");

describe("DES", () => {
  it("matches the FIPS/standard test vector", () => {
    const out = desEncryptBlock(Buffer.from("133457799BBCDFF1", "hex"), Buffer.from("0123456789ABCDEF", "hex"));
    expect(out.toString("hex")).toBe("85e813540f0ab405");
  });
});

describe("vncAuthResponse", () => {
  // Expected values from `openssl enc -des-ecb -provider legacy -nopad` with the bit-reversed key.
  it("keys DES with the bit-reversed password", () => {
    expect(vncAuthResponse("secret12", CHALLENGE).toString("hex")).toBe("adcd997f8e16fee575e973f93c2b62b4");
  });
  it("NUL-pads short passwords and cuts long ones to 8 bytes", () => {
    expect(vncAuthResponse("ab", CHALLENGE).toString("hex")).toBe("fe01155de95da3e28adf6cc730f06f08");
    expect(vncAuthResponse("secret12-and-more", CHALLENGE).toString("hex")).toBe("adcd997f8e16fee575e973f93c2b62b4");
  });
});

/** A scripted RFB 3.8 server on loopback: offers `types`, accepts `password` for type 2. */
function fakeServer(types: number[], password: string, reason = "no types"): Promise<{ server: Server; port: number; seen: number[] }> {
  const seen: number[] = [];
  const server = createServer((s: Socket) => {
    let stage = 0;
    let buf = Buffer.alloc(0);
    s.write("RFB 003.008\n");
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 12) {
        buf = buf.subarray(12);
        stage = 1;
        if (types.length === 0) {
          const r = Buffer.from(reason);
          s.end(Buffer.concat([Buffer.from([0]), Buffer.from([0, 0, 0, r.length]), r]));
          return;
        }
        s.write(Buffer.from([types.length, ...types]));
      }
      if (stage === 1 && buf.length >= 1) {
        const t = buf[0];
        seen.push(t);
        buf = buf.subarray(1);
        stage = t === 2 ? 2 : 3;
        if (t === 2) s.write(CHALLENGE);
        else s.write(Buffer.from([0, 0, 0, 0]));
      }
      if (stage === 2 && buf.length >= 16) {
        const ok = buf.subarray(0, 16).equals(vncAuthResponse(password, CHALLENGE));
        buf = buf.subarray(16);
        if (!ok) {
          const r = Buffer.from("Authentication failed");
          s.end(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, r.length]), r]));
          return;
        }
        s.write(Buffer.from([0, 0, 0, 0]));
        stage = 3;
      }
      if (stage === 3 && buf.length >= 1) {
        const name = Buffer.from("QEMU");
        const init = Buffer.alloc(20);
        init.writeUInt16BE(640, 0);
        init.writeUInt16BE(480, 2);
        s.end(Buffer.concat([init, Buffer.from([0, 0, 0, name.length]), name]));
        stage = 4;
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, seen })));
}

describe("rfbConnect against a scripted server", () => {
  it("authenticates with the right password and reads ServerInit", async () => {
    const { server, port, seen } = await fakeServer([2], "Tenant#7");
    try {
      const r = await rfbConnect("127.0.0.1", port, "Tenant#7");
      expect(r).toEqual({ version: "RFB 003.008", securityTypes: [2], result: "OK", serverInit: { width: 640, height: 480, name: "QEMU" } });
      expect(seen).toEqual([2]);
    } finally {
      server.close();
    }
  });

  it("reports FAILED with the server's reason for a wrong password", async () => {
    const { server, port } = await fakeServer([2], "Tenant#7");
    try {
      expect(await rfbConnect("127.0.0.1", port, "Tenant#8")).toEqual({ version: "RFB 003.008", securityTypes: [2], result: "FAILED", reason: "Authentication failed" });
    } finally {
      server.close();
    }
  });

  it("reports an open console (type None) as OK without credentials", async () => {
    const { server, port, seen } = await fakeServer([1], "");
    try {
      const r = await rfbConnect("127.0.0.1", port);
      expect([r.securityTypes, r.result]).toEqual([[1], "OK"]);
      expect(seen).toEqual([1]);
    } finally {
      server.close();
    }
  });

  it("reports REFUSED with the reason when no type is offered", async () => {
    const { server, port } = await fakeServer([], "", "Too many security failures");
    try {
      expect(await rfbConnect("127.0.0.1", port, "x")).toEqual({ version: "RFB 003.008", securityTypes: [], result: "REFUSED", reason: "Too many security failures" });
    } finally {
      server.close();
    }
  });
});

// Starts a real `caspurd dev` on free loopback ports for the client tests and stops it by PID.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** CosmJS's faucet mnemonic: the dev account `caspurd dev` funds. */
export const MNEMONIC =
  "economy stock theory fatal elder harbor betray wasp final emotion task crumble siren bottom lizard educate guess current outdoor pair theory focus wife stone";
export const CHAIN_ID = "caspur-dev-1";
export const DENOM = "ucsp";

const BIN = process.env.CASPURD ?? resolve(import.meta.dirname, "../../target/debug/caspurd");

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function rpcStatus(url) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status", params: {} }),
  });
  return (await res.json()).result;
}

/** Starts the node; resolves once it has committed block 1. */
export async function startDevNode() {
  const home = mkdtempSync(join(tmpdir(), "caspur-cosmjs-"));
  const [rpcPort, p2pPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  const log = join(home, "node.log");
  const out = openSync(log, "a");
  const child = spawn(
    BIN,
    [
      "dev",
      "--home", join(home, "node"),
      "--dev-mnemonic", MNEMONIC,
      "--block-time-ms", "200",
      "--rpc-laddr", `127.0.0.1:${rpcPort}`,
      "--p2p-laddr", `127.0.0.1:${p2pPort}`,
      "--grpc-laddr", `127.0.0.1:${grpcPort}`,
    ],
    { stdio: ["ignore", out, out] },
  );
  const node = {
    rpc: `http://127.0.0.1:${rpcPort}`,
    ws: `ws://127.0.0.1:${rpcPort}`,
    log: () => readFileSync(log, "utf8"),
    stop: () => child.kill("SIGKILL"),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const status = await rpcStatus(node.rpc);
      if (Number(status.sync_info.latest_block_height) >= 1) return node;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      node.stop();
      throw new Error(`caspurd dev did not start:\n${node.log()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

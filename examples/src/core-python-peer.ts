// @ipc/core and Python: Node sends JSON messages over a socketpair; a Python process using only
// multiprocessing.connection.Connection reads them with recv_bytes/json.loads and answers with send_bytes.
import { spawn } from "node:child_process";
import type { Socket } from "node:net";
import { createStreamChannel } from "@ipc/core";

const PYTHON = `
import json
from multiprocessing.connection import Connection
conn = Connection(3)
while True:
    try:
        message = json.loads(conn.recv_bytes())
    except EOFError:
        break
    conn.send_bytes(json.dumps({"python_says": message["greeting"].upper()}).encode())
`;

const python = spawn("python3", ["-c", PYTHON], { stdio: ["ignore", "inherit", "inherit", "pipe"] });
python.on("error", (error) => {
  console.log(`  (skipped: python3 could not be started: ${error.message})`);
  process.exit(0);
});
const channel = createStreamChannel<Record<string, string>>(python.stdio[3] as Socket);
for (const greeting of ["hello from node", "framing is python-compatible"]) {
  await channel.send({ greeting });
  console.log(
    `  node sent ${JSON.stringify({ greeting })}, python answered`,
    await channel.receive({ timeout: 10_000 }),
  );
}
await channel.close();
await new Promise((resolve) => python.once("exit", resolve));

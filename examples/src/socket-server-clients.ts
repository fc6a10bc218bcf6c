// The tutorial's program 3, anew: a TCP server; five clients (here: five processes) start at once, each
// sends its name and prints the reply `server got :[name]`. The tutorial listens on port 50008; we ask
// for any free port (":0") so the demo never collides with something already running.
import { spawn } from "node:child_process";
import { connect, listen } from "@ipc/socket";

if (process.argv[2] === "client") {
  const [address, name] = process.argv.slice(3) as [string, string];
  await using channel = await connect<string>(address);
  await channel.send(name);
  console.log(`client got :[${await channel.receive({ timeout: 10_000 })}]`);
} else {
  await using server = await listen<string>("localhost:0");
  console.log("server start");
  void (async () => {
    for await (const channel of server) {
      void (async () => {
        const name = await channel.receive();
        await channel.send(`server got :[${name}]`);
      })();
    }
  })();
  const clients = Array.from({ length: 5 }, (_, i) =>
    spawn(
      process.execPath,
      [...process.execArgv, import.meta.filename, "client", server.address, `client${i}`],
      {
        stdio: "inherit",
      },
    ),
  );
  await Promise.all(clients.map((child) => new Promise((resolve) => child.once("exit", resolve))));
}

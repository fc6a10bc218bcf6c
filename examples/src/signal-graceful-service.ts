// @ipc/signal: a service registers clean-up steps; on SIGTERM they run in reverse order, each within its
// time limit, and the process exits with 143 (128 + 15), as shells expect.
import { spawn } from "node:child_process";
import { configureShutdown, onShutdown, sendSignal } from "@ipc/signal";

if (process.argv[2] === "service") {
  configureShutdown({ log: (text) => console.log(`  service: ${text}`) });
  onShutdown(() => console.log("  service: closed the database"), { name: "database" });
  onShutdown(
    async (why) => {
      console.log(`  service: ${why.signal} received, draining requests...`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      console.log("  service: requests drained");
    },
    { name: "http server", timeout: 2_000 },
  );
  setInterval(() => {}, 1000);
  console.log("  service: running");
} else {
  const service = spawn(process.execPath, [...process.execArgv, import.meta.filename, "service"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  service.stdout.pipe(process.stdout);
  service.stdout.once("data", () => {
    console.log(`  supervisor: sending SIGTERM to ${service.pid}`);
    sendSignal(service, "SIGTERM");
  });
  const code = await new Promise((resolve) => service.once("exit", resolve));
  console.log(`  supervisor: the service exited with code ${code}`);
}

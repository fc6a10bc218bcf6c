// Answers every SIGUSR2 with a SIGUSR2 to its parent, until SIGTERM.
import { onSignal, sendSignal } from "@ipc/signal";

onSignal("SIGUSR2", () => sendSignal(process.ppid, "SIGUSR2"));
setInterval(() => {}, 1000);
process.stdout.write("ready\n");

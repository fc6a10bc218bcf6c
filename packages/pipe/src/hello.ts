/** What a Node child started by `forkWithPipes` writes first, as one frame, so the parent knows it is up. */
export const HELLO_PAYLOAD = Buffer.from("#IPC-PIPE-HELLO#");

/** Milliseconds `forkWithPipes` waits for the child's hello unless `timeout` says otherwise. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

// zeromq and node-ipc, each written as its README shows: both ends of a benchmarked connection.
import { loadExternal } from "./external.js";
import { type Link, Mailbox } from "./link.js";

// zeromq 6: a PAIR socket over ipc://, `await send()` per message (one send may be in flight at a time,
// as its README says), `for await` over the socket to receive.
interface ZmqPair {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  send(message: Uint8Array): Promise<void>;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<Buffer[]>;
}

function zeromqLink(socket: ZmqPair): Link {
  const mailbox = new Mailbox();
  void (async () => {
    try {
      for await (const [message] of socket) mailbox.put(message);
    } catch {
      // Closed.
    }
  })();
  let last: Promise<void> = Promise.resolve();
  return {
    send(message) {
      last = last.then(() => socket.send(message as Uint8Array));
      return last;
    },
    // A promise per message, as zeromq's own receive() and async iterator give them.
    receive: async () => mailbox.take(),
    async close() {
      await last.catch(() => {});
      socket.close();
    },
  };
}

/** The listening end (this process binds `ipc://path`); undefined when zeromq is not installed. */
export async function zeromqListen(path: string): Promise<Link | undefined> {
  const zmq = loadExternal<{ Pair: new () => ZmqPair }>("zeromq");
  if (zmq === undefined) return undefined;
  const socket = new zmq.Pair();
  await socket.bind(`ipc://${path}`);
  return zeromqLink(socket);
}

/** The dialing end. */
export function zeromqConnect(path: string): Link {
  const zmq = loadExternal<{ Pair: new () => ZmqPair }>("zeromq")!;
  const socket = new zmq.Pair();
  socket.connect(`ipc://${path}`);
  return zeromqLink(socket);
}

// node-ipc 9.2.1 (the last release before the versions that carried protestware, and still the most
// installed): `serve` / `connectTo` on a Unix socket, messages as its JSON events.
interface NodeIpc {
  config: Record<string, unknown>;
  serve(path: string, callback: () => void): void;
  server: {
    on(event: string, listener: (...args: unknown[]) => void): void;
    emit(socket: unknown, event: string, data: unknown): void;
    start(): void;
    stop(): void;
  };
  connectTo(id: string, path: string, callback: () => void): void;
  of: Record<
    string,
    {
      on(event: string, listener: (...args: unknown[]) => void): void;
      emit(event: string, data: unknown): void;
    }
  >;
  disconnect(id: string): void;
}

function nodeIpc(): NodeIpc | undefined {
  const module = loadExternal<{ IPC: new () => NodeIpc }>("node-ipc");
  if (module === undefined) return undefined;
  const ipc = new module.IPC();
  ipc.config.silent = true;
  ipc.config.id = "bench";
  ipc.config.retry = 50;
  return ipc;
}

/** The serving end: resolves once the peer has connected; undefined when node-ipc is not installed. */
export function nodeIpcServe(path: string, connected: (link: Link) => void): boolean {
  const ipc = nodeIpc();
  if (ipc === undefined) return false;
  const mailbox = new Mailbox();
  ipc.serve(path, () => {
    ipc.server.on("message", (data) => mailbox.put(data));
    ipc.server.on("connect", (socket) =>
      connected({
        send: (message) => ipc.server.emit(socket, "message", message),
        receive: () => mailbox.take(),
        async close() {
          ipc.server.stop();
        },
      }),
    );
  });
  ipc.server.start();
  return true;
}

/** The connecting end. */
export async function nodeIpcConnect(path: string): Promise<Link> {
  const ipc = nodeIpc()!;
  const mailbox = new Mailbox();
  ipc.connectTo("bench", path, () => {});
  const client = ipc.of.bench!;
  client.on("message", (data) => mailbox.put(data));
  await new Promise((resolve) => client.on("connect", resolve));
  return {
    send: (message) => client.emit("message", message),
    receive: () => mailbox.take(),
    async close() {
      ipc.disconnect("bench");
    },
  };
}

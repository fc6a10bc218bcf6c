// The tutorial's program 1, anew: a parent creates a pipe to a child; the child writes "child processing"
// after a delay; the parent waits (without blocking the event loop) until it reads it.
// Python original: os.pipe(), os.fork(), child: time.sleep(5); os.write(w, b"child processing"),
// parent: print(os.read(r, 32)) -> b'child processing'
import { forkWithPipes, openParentStream } from "@ipc/pipe";

const CHILD_DELAY_MS = 1_000; // The tutorial sleeps 5 s; 1 s keeps the demo short.

if (process.argv[2] === "child") {
  const pipe = openParentStream(0); // a raw one-way pipe: bytes, no messages
  setTimeout(() => pipe.end("child processing"), CHILD_DELAY_MS);
} else {
  const child = await forkWithPipes(import.meta.filename, ["child"], {
    pipes: [{ direction: "receive", raw: true }],
  });
  const chunks: Buffer[] = [];
  for await (const chunk of child.stream(0)) chunks.push(chunk as Buffer);
  console.log(`b'${Buffer.concat(chunks).toString()}'`);
  await child.exited;
}

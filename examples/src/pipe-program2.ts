// The tutorial's program 2, anew: multiprocessing.Pipe() one-way (the sender) and two-way (the talker).
import { forkWithPipes, openParentChannel } from "@ipc/pipe";

const role = process.argv[2];
if (role === "sender") {
  // One-way: the child can only send.
  const pipe = openParentChannel<string>(0);
  await pipe.send("i,am a child(sender)");
  await pipe.close();
} else if (role === "talker") {
  // Two-way: the child sends, then waits for the parent's reply.
  const pipe = openParentChannel<string>(0);
  await pipe.send("i,am a child(talker)"); // child -> parent
  const reply = await pipe.receive(); // parent -> child
  console.log(`msg from parent: ${reply}`);
  await pipe.close();
} else {
  const sender = await forkWithPipes(import.meta.filename, ["sender"], { pipes: [{ direction: "receive" }] });
  console.log(`msg from child(sender): ${await sender.receiver<string>().receive()}`);
  await sender.close();
  await sender.exited;

  const talker = await forkWithPipes(import.meta.filename, ["talker"]);
  const pipe = talker.channel<string>();
  console.log(`msg from child(talker)${await pipe.receive()}`);
  await pipe.send("i,am a parent response");
  await talker.exited; // like c.join(): wait for the child, so its print comes before "end"
  console.log("end");
}

// The echo side of the wake-up benchmark: `queue-wake-peer.ts <requests> <replies> <count> <spin ms>`:
// takes each item from one queue and puts it on the other.
import { bytes } from "@ipc/core";
import { openQueue } from "@ipc/queue";

const [requestsName, repliesName, countText, spinText] = process.argv.slice(2) as string[];
const spin = Number(spinText);
const requests = openQueue<Uint8Array>(requestsName!, { codec: bytes, spin });
const replies = openQueue<Uint8Array>(repliesName!, { codec: bytes, spin });
for (let i = 0; i < Number(countText); i++) await replies.put(await requests.get());
await requests.close();
await replies.close();

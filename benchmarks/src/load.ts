// Load generator: `load.ts <address> <clients> <roundTrips>`. Opens <clients> connections at once; each
// does <roundTrips> ping-pongs of 64 bytes; reports the latencies to the parent over Node IPC.
import { bytes } from "@ipc/core";
import { connect } from "@ipc/socket";

const [address, clientsText, roundTripsText] = process.argv.slice(2) as [string, string, string];
const clients = Number(clientsText);
const roundTrips = Number(roundTripsText);
const message = new Uint8Array(64).fill(42);

const channels = await Promise.all(Array.from({ length: clients }, () => connect(address, { codec: bytes })));
const latencies = new Float64Array(clients * roundTrips);
const start = process.hrtime.bigint();
await Promise.all(
  channels.map(async (channel, client) => {
    for (let i = 0; i < roundTrips; i += 1) {
      const sent = process.hrtime.bigint();
      await channel.send(message);
      await channel.receive();
      latencies[client * roundTrips + i] = Number(process.hrtime.bigint() - sent) / 1000;
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
await Promise.all(channels.map((channel) => channel.close()));
process.send!({ seconds, latencies }, () => process.disconnect());

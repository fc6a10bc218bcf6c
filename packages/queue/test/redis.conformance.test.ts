import { describeQueueConformance } from "@ipc-internal/queue-conformance";
import { findRedisServer, type RedisServer, startRedisServer } from "@ipc-internal/test-utils";
import { afterAll, beforeAll, describe, it } from "vitest";
import { redisSubject } from "./redis-subject.js";

// The queue contract on a real redis-server (skipped, and reported so, when the machine has none; CI sets
// IPC_REQUIRE_REDIS=1, which makes a missing server an error instead).
if (findRedisServer() === undefined) {
  describe.skip("@ipc/queue/redis: no redis-server on this machine (apt-get install redis-server)", () => {
    it("queue conformance on Redis", () => {});
  });
} else {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  describeQueueConformance(redisSubject(() => server));
}

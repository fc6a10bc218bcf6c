import { defineProject } from "vitest/config";

export default defineProject({
  ssr: { resolve: { conditions: ["@ipc/source"] } },
  test: {
    name: "@ipc/shm",
    include: ["test/**/*.test.ts"],
    setupFiles: ["@ipc-internal/test-utils/leak-check"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

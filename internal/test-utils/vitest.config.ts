import { defineProject } from "vitest/config";

export default defineProject({
  ssr: { resolve: { conditions: ["@ipc/source"] } },
  test: {
    name: "@ipc-internal/test-utils",
    include: ["test/**/*.test.ts"],
    setupFiles: ["./src/leak-check.ts"],
    testTimeout: 30_000,
  },
});

import { defineProject, type UserWorkspaceConfig } from "vitest/config";

/** Milliseconds a test (and a hook) may take: tests start real processes. */
export const TEST_TIMEOUT_MS = 30_000;

/**
 * The Vitest project every package runs: tests in `test/`, run against `src/` (the `@ipc/source`
 * condition), with the leak check (no process, descriptor, temp dir or segment left behind), and its
 * peer fixtures bundled before the first test.
 */
export function packageProject(
  name: string,
  setupFile = "@ipc-internal/test-utils/leak-check",
): UserWorkspaceConfig {
  return defineProject({
    ssr: { resolve: { conditions: ["@ipc/source"] } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      setupFiles: [setupFile],
      // Peers (test/fixtures/*.ts) are bundled once, so each starts as plain JavaScript.
      globalSetup: ["@ipc-internal/test-utils/bundle-peers"],
      testTimeout: TEST_TIMEOUT_MS,
      hookTimeout: TEST_TIMEOUT_MS,
    },
  });
}

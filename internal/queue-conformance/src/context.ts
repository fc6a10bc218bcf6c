import { expect } from "vitest";
import type { QueueRequest, QueueSubject, QueueUnderTest } from "./subject.js";

/** Each check's helpers, bound to one subject. */
export interface QueueContext {
  subject: QueueSubject;
  /** Runs `body` with a fresh queue and its factory of second ends; disposes of all of it afterwards. */
  withQueue<T>(
    request: QueueRequest,
    body: (queue: QueueUnderTest<T>, tools: Awaited<ReturnType<QueueSubject["create"]>>) => Promise<void>,
  ): Promise<void>;
}

export function queueContext(subject: QueueSubject): QueueContext {
  return {
    subject,
    async withQueue(request, body) {
      const made = await subject.create<never>(request);
      try {
        await body(made.queue as never, made);
      } finally {
        await made.dispose();
      }
    },
  };
}

/** Expects `run` (sync or async) to fail with an @ipc error of `code`. */
export async function expectCode(run: () => unknown, code: string): Promise<void> {
  let outcome: unknown;
  try {
    await run();
    outcome = "no error";
  } catch (error) {
    outcome = error;
  }
  expect(outcome).toMatchObject({ code });
}

/** Resolves after `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True once `promise` has settled (checked after a turn of the event loop). */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await pause(10);
  return done;
}

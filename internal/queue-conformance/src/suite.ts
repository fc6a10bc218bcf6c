import { describe } from "vitest";
import { closingChecks } from "./checks/closing.js";
import { countingChecks } from "./checks/counting.js";
import { fifoChecks } from "./checks/fifo.js";
import { joinableChecks } from "./checks/joinable.js";
import { leaseChecks } from "./checks/leases.js";
import { limitChecks } from "./checks/limits.js";
import { waitingChecks } from "./checks/waiting.js";
import { queueContext } from "./context.js";
import type { QueueSubject } from "./subject.js";

/** Runs the queue contract (Python's semantics, nowait codes, waits, join, leases, close) on `subject`. */
export function describeQueueConformance(subject: QueueSubject): void {
  const context = queueContext(subject);
  describe(`${subject.name}: queue conformance`, () => {
    fifoChecks(context);
    countingChecks(context);
    waitingChecks(context);
    limitChecks(context);
    joinableChecks(context);
    leaseChecks(context);
    closingChecks(context);
  });
}

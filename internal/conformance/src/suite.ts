import { describe } from "vitest";
import { backpressureChecks } from "./checks/backpressure.js";
import { closingChecks } from "./checks/closing.js";
import { codecChecks } from "./checks/codecs.js";
import { deliveryChecks } from "./checks/delivery.js";
import { limitChecks } from "./checks/limits.js";
import { peerDeathChecks } from "./checks/peer-death.js";
import { survivalChecks } from "./checks/survival.js";
import { waitingChecks } from "./checks/waiting.js";
import { suiteContext } from "./context.js";
import type { ConformanceSubject } from "./subject.js";
import { closedTrait } from "./traits/closed.js";

/** Runs the contract checks that apply to `subject` (see {@link ConformanceSubject.capabilities}). */
export function describeConformance(subject: ConformanceSubject): void {
  const context = suiteContext(subject);
  describe(`${subject.name}: conformance`, () => {
    deliveryChecks(context);
    codecChecks(context);
    limitChecks(context);
    peerDeathChecks(context);
    survivalChecks(context);
    backpressureChecks(context);
    waitingChecks(context);
    closingChecks(context);
    closedTrait(context);
  });
}

import { describe, expect, it } from "vitest";
import { ADAPTIVE_MAX_SPIN_MS, ADAPTIVE_MIN_SPIN_MS, SpinPolicy } from "../src/spin-policy.js";

// The default spin of a shared-memory channel learns how long its peer takes to answer.
describe("adaptive spin", () => {
  it("starts at the minimum and spins a little longer than a peer that answers in 60 µs", () => {
    const policy = new SpinPolicy(undefined);
    expect(policy.spinMs).toBe(ADAPTIVE_MIN_SPIN_MS);
    for (let i = 0; i < 8; i++) policy.observe(0.06);
    expect(policy.spinMs).toBeCloseTo(0.09, 5);
  });

  it("one slow answer among quick ones does not change it; a peer slower than the most it spins gets the minimum", () => {
    const policy = new SpinPolicy(undefined);
    for (let i = 0; i < 7; i++) policy.observe(0.01);
    policy.observe(5_000); // the peer was idle for 5 s once
    expect(policy.spinMs).toBe(ADAPTIVE_MIN_SPIN_MS);
    for (let i = 0; i < 8; i++) policy.observe(0.1);
    expect(policy.spinMs).toBeCloseTo(0.15, 5);
    for (let i = 0; i < 8; i++) policy.observe(ADAPTIVE_MAX_SPIN_MS);
    expect(policy.spinMs).toBe(ADAPTIVE_MIN_SPIN_MS);
  });

  it("a spin the caller chose never changes", () => {
    const policy = new SpinPolicy(0);
    for (let i = 0; i < 8; i++) policy.observe(0.05);
    expect(policy.spinMs).toBe(0);
  });
});

/**
 * How much `pnpm bench` measures: rounds, warm-up (the least messages, and the least milliseconds in a
 * mechanism's first round and in its later ones, when its processes have run before), and messages per
 * phase of each round.
 */
export const MODES = {
  quick: { rounds: 1, warmup: 100, warmupMs: 10, rewarmMs: 10, roundTrips: 500, oneWay: 5_000, large: 8 },
  standard: {
    rounds: 5,
    warmup: 300,
    warmupMs: 100,
    rewarmMs: 30,
    roundTrips: 2_000,
    oneWay: 100_000,
    large: 48,
  },
  long: {
    rounds: 7,
    warmup: 1_000,
    warmupMs: 300,
    rewarmMs: 100,
    roundTrips: 10_000,
    oneWay: 500_000,
    large: 200,
  },
} as const;

export type ModeName = keyof typeof MODES;
export type Mode = (typeof MODES)[ModeName];

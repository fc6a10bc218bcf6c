import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/**
 * A full garbage collection now. Bench processes run one after each round, outside the timing: a process
 * left with a large heap collects it later, on its own (V8's memory reducer), while another mechanism is
 * being measured on the same CPUs.
 */
export function fullGc(): void {
  gc();
}

import { processAlive, processStartTime } from "@ipc/core/transport";

// A process as shared memory records it: its pid and its start time in one 64-bit word, so that a pid
// the system has since given to another process does not pass for the one recorded. The pid sits in the
// 32-bit half a futex can wait on.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Which Int32 half of a 64-bit identity word holds the pid (the other holds the start time). */
export const PID_HALF = LITTLE_ENDIAN ? 0 : 1;
const PID_BITS = 0xffff_ffffn;

let ownIdentity: bigint | undefined;

/** This process as a 64-bit identity: pid and start time. */
export function selfIdentity(): bigint {
  ownIdentity ??= identityOf(process.pid, processStartTime(process.pid));
  return ownIdentity;
}

function identityOf(pid: number, startTime: number): bigint {
  return LITTLE_ENDIAN ? (BigInt(startTime) << 32n) | BigInt(pid) : (BigInt(pid) << 32n) | BigInt(startTime);
}

/** The pid recorded in an identity. */
export function identityPid(identity: bigint): number {
  return Number(LITTLE_ENDIAN ? identity & PID_BITS : identity >> 32n);
}

function identityStartTime(identity: bigint): number {
  return Number(LITTLE_ENDIAN ? identity >> 32n : identity & PID_BITS);
}

/** True when the process recorded as `identity` is gone (exited, killed, or its pid reused). */
export function identityGone(identity: bigint): boolean {
  const pid = identityPid(identity);
  // Not a pid at all (the memory was overwritten): kill(0 or -n) would ask about whole process groups.
  if (pid <= 0) return true;
  if (!processAlive(pid)) return true;
  const recorded = identityStartTime(identity);
  return recorded !== 0 && processStartTime(pid) !== recorded;
}

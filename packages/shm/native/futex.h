// Futex waits and wakes on words of shared memory, synchronous and on dedicated waiter threads.
#pragma once
#include <napi.h>

#include <cstddef>

namespace ipc_shm {

/** Adds wait, wake, waitAsync, cancelWait and setWaitCallback to `exports`. */
void RegisterFutex(Napi::Env env, Napi::Object exports);

/** Ends async waits on words in [address, address + length): called before that memory is unmapped. */
void CancelWaitsIn(Napi::Env env, void* address, size_t length);

}  // namespace ipc_shm

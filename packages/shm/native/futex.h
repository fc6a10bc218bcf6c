// Futex waits and wakes on words of shared memory, synchronous and on dedicated waiter threads.
#pragma once
#include <napi.h>

#include <cstddef>
#include <functional>

namespace ipc_shm {

/** Adds wait, wake, waitAsync, cancelWait and setWaitCallback to `exports`. */
void RegisterFutex(Napi::Env env, Napi::Object exports);

/** Ends async waits on words in [address, address + length): called before that memory is unmapped. */
void CancelWaitsIn(Napi::Env env, void* address, size_t length);

/** Cancels this env's async waits on a range; safe to call even after the env's waiters are gone. */
using WaitCanceller = std::function<void(void*, size_t)>;

/** A {@link WaitCanceller} for `env`, for finalizers that may run during the env's teardown. */
WaitCanceller WaitCancellerFor(Napi::Env env);

}  // namespace ipc_shm

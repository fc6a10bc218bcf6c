// Futex waits and wakes on 32-bit words of shared memory. Without FUTEX_PRIVATE_FLAG, so they work
// between processes (V8's Atomics.wait cannot: its wait queue is per process).
//
// Async waits run on threads of this module's own (never libuv's pool, which they would starve): one
// thread per concurrently pending wait, kept for reuse. Each result comes back through one thread-safe
// function, referenced only while a wait is pending so an idle module never keeps the process alive.
#include "futex.h"

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ipc_shm {
namespace {

constexpr int kCancelled = ECANCELED;
// A thread whose wait was cancelled in the instant before it slept notices within this slice.
constexpr int64_t kSliceNs = 200'000'000;

#ifdef __linux__
// futex(FUTEX_WAIT): 0 when woken (or spuriously), else errno (EAGAIN: the word was not `expected`).
int FutexWait(int32_t* address, int32_t expected, int64_t timeout_ns) {
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    tsp = &ts;
  }
  long rc = syscall(SYS_futex, address, FUTEX_WAIT, expected, tsp, nullptr, 0);
  return rc == 0 ? 0 : errno;
}

int FutexWake(int32_t* address, int count) {
  long rc = syscall(SYS_futex, address, FUTEX_WAKE, count, nullptr, nullptr, 0);
  return rc < 0 ? -errno : static_cast<int>(rc);
}
#else
int FutexWait(int32_t*, int32_t, int64_t) { return ENOSYS; }
int FutexWake(int32_t*, int) { return -ENOSYS; }
#endif

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The word an (ArrayBuffer, byteOffset) pair names, or nullptr when it is out of range or misaligned.
int32_t* WordAt(const Napi::Value& buffer_value, const Napi::Value& offset_value) {
  if (!buffer_value.IsArrayBuffer()) return nullptr;
  Napi::ArrayBuffer buffer = buffer_value.As<Napi::ArrayBuffer>();
  double offset = offset_value.As<Napi::Number>().DoubleValue();
  auto* data = static_cast<uint8_t*>(buffer.Data());
  if (data == nullptr || offset < 0 || offset + 4 > static_cast<double>(buffer.ByteLength())) return nullptr;
  auto* word = data + static_cast<size_t>(offset);
  if (reinterpret_cast<uintptr_t>(word) % 4 != 0) return nullptr;
  return reinterpret_cast<int32_t*>(word);
}

// Milliseconds from JS (Infinity or negative: no limit) to nanoseconds (-1: no limit).
int64_t TimeoutNs(const Napi::Value& value) {
  double ms = value.As<Napi::Number>().DoubleValue();
  if (!(ms >= 0) || ms > 9.0e12) return -1;
  return static_cast<int64_t>(ms * 1'000'000);
}

class WaiterPool;
WaiterPool* PoolOf(Napi::Env env);

struct Job {
  uint32_t id;
  int32_t* address;
  int32_t expected;
  int64_t deadline_ns;  // -1: none
  bool cancelled = false;
  bool sleeping = false;
};

struct Done {
  uint32_t id;
  int result;
};

class WaiterPool {
 public:
  explicit WaiterPool(Napi::Env env) : env_(env) {}

  ~WaiterPool() { Stop(); }

  void SetCallback(Napi::Function callback) {
    if (tsfn_) tsfn_.Release();
    tsfn_ = Napi::ThreadSafeFunction::New(env_, callback, "ipc-shm-futex-wait", 0, 1);
    tsfn_.Unref(env_);
  }

  bool Ready() const { return static_cast<bool>(tsfn_); }

  void Start(uint32_t id, int32_t* address, int32_t expected, int64_t timeout_ns) {
    auto job = std::make_shared<Job>();
    job->id = id;
    job->address = address;
    job->expected = expected;
    job->deadline_ns = timeout_ns < 0 ? -1 : NowNs() + timeout_ns;
    if (pending_++ == 0) tsfn_.Ref(env_);
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_[id] = job;
    queue_.push_back(job);
    if (idle_ == 0) threads_.emplace_back([this] { Run(); });
    ready_.notify_one();
  }

  // Called on the JS thread when a result has been delivered.
  void Delivered() {
    if (--pending_ == 0) tsfn_.Unref(env_);
  }

  void Cancel(uint32_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = jobs_.find(id);
    if (found == jobs_.end()) return;
    CancelLocked(*found->second);
  }

  void CancelIn(void* address, size_t length) {
    auto* begin = static_cast<uint8_t*>(address);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, job] : jobs_) {
      auto* word = reinterpret_cast<uint8_t*>(job->address);
      if (word >= begin && word < begin + length) CancelLocked(*job);
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      for (auto& [id, job] : jobs_) CancelLocked(*job);
    }
    ready_.notify_all();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    if (tsfn_) tsfn_.Release();
  }

 private:
  void CancelLocked(Job& job) {
    job.cancelled = true;
    // Every waiter on the word wakes; the others find nothing changed and wait again.
    if (job.sleeping) FutexWake(job.address, INT_MAX);
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) return;
      std::shared_ptr<Job> job = queue_.front();
      queue_.pop_front();
      int result = kCancelled;
      while (!job->cancelled) {
        int64_t left = job->deadline_ns < 0 ? kSliceNs : job->deadline_ns - NowNs();
        if (left <= 0) {
          result = ETIMEDOUT;
          break;
        }
        job->sleeping = true;
        lock.unlock();
        int rc = FutexWait(job->address, job->expected, left < kSliceNs ? left : kSliceNs);
        lock.lock();
        job->sleeping = false;
        if (rc == ETIMEDOUT || rc == EINTR) continue;  // a slice ended: check cancel and deadline
        result = rc;  // 0 woken, EAGAIN the word was not `expected`, or a failure such as EFAULT
        break;
      }
      if (job->cancelled) result = kCancelled;
      jobs_.erase(job->id);
      auto* done = new Done{job->id, result};
      if (stopping_ || tsfn_.NonBlockingCall(done, Deliver) != napi_ok) delete done;
    }
  }

  static void Deliver(Napi::Env env, Napi::Function callback, Done* done) {
    uint32_t id = done->id;
    int result = done->result;
    delete done;
    if (env == nullptr) return;
    WaiterPool* pool = PoolOf(env);
    if (pool != nullptr) pool->Delivered();
    callback.Call({Napi::Number::New(env, id), Napi::Number::New(env, result)});
  }

  Napi::Env env_;
  Napi::ThreadSafeFunction tsfn_;
  int pending_ = 0;  // JS thread only
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::unordered_map<uint32_t, std::shared_ptr<Job>> jobs_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

WaiterPool* PoolOf(Napi::Env env) {
  auto* holder = env.GetInstanceData<std::shared_ptr<WaiterPool>>();
  return holder == nullptr ? nullptr : holder->get();
}

// wait(buffer, byteOffset, expected, timeoutMs) -> 0 woken | EAGAIN not `expected` | ETIMEDOUT | EINVAL
// Blocks the calling thread: for worker threads and synchronous code.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  int32_t* word = WordAt(info[0], info[1]);
  if (word == nullptr) return Napi::Number::New(info.Env(), EINVAL);
  int32_t expected = info[2].As<Napi::Number>().Int32Value();
  int64_t timeout_ns = TimeoutNs(info[3]);
  int64_t deadline = timeout_ns < 0 ? -1 : NowNs() + timeout_ns;
  for (;;) {
    int64_t left = deadline < 0 ? -1 : deadline - NowNs();
    int rc = FutexWait(word, expected, left < 0 && deadline >= 0 ? 0 : left);
    if (rc != EINTR) return Napi::Number::New(info.Env(), rc);
  }
}

// wake(buffer, byteOffset, count) -> number of waiters woken (negative errno on failure)
Napi::Value Wake(const Napi::CallbackInfo& info) {
  int32_t* word = WordAt(info[0], info[1]);
  if (word == nullptr) return Napi::Number::New(info.Env(), -EINVAL);
  double count = info[2].As<Napi::Number>().DoubleValue();
  int n = count >= INT_MAX || !(count >= 0) ? INT_MAX : static_cast<int>(count);
  return Napi::Number::New(info.Env(), FutexWake(word, n));
}

// setWaitCallback(fn): fn(id, result) receives every async wait's result, on the JS thread.
Napi::Value SetWaitCallback(const Napi::CallbackInfo& info) {
  PoolOf(info.Env())->SetCallback(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// waitAsync(buffer, byteOffset, expected, timeoutMs, id) -> 0 started | EINVAL; the result (0 woken,
// EAGAIN not `expected`, ETIMEDOUT, ECANCELED, EFAULT) arrives later through the wait callback.
Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
  WaiterPool* pool = PoolOf(info.Env());
  int32_t* word = WordAt(info[0], info[1]);
  if (word == nullptr || !pool->Ready()) return Napi::Number::New(info.Env(), EINVAL);
  pool->Start(info[4].As<Napi::Number>().Uint32Value(), word, info[2].As<Napi::Number>().Int32Value(),
              TimeoutNs(info[3]));
  return Napi::Number::New(info.Env(), 0);
}

// cancelWait(id): the wait ends soon with ECANCELED (unless its result is already on the way).
Napi::Value CancelWait(const Napi::CallbackInfo& info) {
  PoolOf(info.Env())->Cancel(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

}  // namespace

void CancelWaitsIn(Napi::Env env, void* address, size_t length) {
  WaiterPool* pool = PoolOf(env);
  if (pool != nullptr) pool->CancelIn(address, length);
}

WaitCanceller WaitCancellerFor(Napi::Env env) {
  auto* holder = env.GetInstanceData<std::shared_ptr<WaiterPool>>();
  std::weak_ptr<WaiterPool> pool = holder == nullptr ? nullptr : *holder;
  return [pool](void* address, size_t length) {
    if (auto alive = pool.lock()) alive->CancelIn(address, length);
  };
}

void RegisterFutex(Napi::Env env, Napi::Object exports) {
  // Held by a shared_ptr so that mapping finalizers running during teardown can tell whether it is gone.
  env.SetInstanceData(new std::shared_ptr<WaiterPool>(std::make_shared<WaiterPool>(env)));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("wake", Napi::Function::New(env, Wake));
  exports.Set("setWaitCallback", Napi::Function::New(env, SetWaitCallback));
  exports.Set("waitAsync", Napi::Function::New(env, WaitAsync));
  exports.Set("cancelWait", Napi::Function::New(env, CancelWait));
}

}  // namespace ipc_shm

// Thin bindings for POSIX shared memory (futex waits are in futex.cc): each function makes one system call and reports errno; all
// validation and error wording lives in TypeScript (src/).
#include <napi.h>

#include "futex.h"

#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

Napi::Object Result(Napi::Env env, int error, double value) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", Napi::Number::New(env, error));
  result.Set("value", Napi::Number::New(env, value));
  return result;
}

// shm_open(name, flags, mode) -> { errno, value: fd }
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = static_cast<mode_t>(info[2].As<Napi::Number>().Uint32Value());
  int fd = shm_open(name.c_str(), flags | O_CLOEXEC, mode);
  return Result(info.Env(), fd < 0 ? errno : 0, fd);
}

// fchmod(fd, mode) -> errno (shm_open applies the umask; this sets the mode exactly)
Napi::Value Chmod(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  return Napi::Number::New(info.Env(), fchmod(fd, mode) < 0 ? errno : 0);
}

// Reserves `size` bytes: ftruncate, then posix_fallocate where it exists, so a full tmpfs fails here
// with ENOSPC instead of killing the process with SIGBUS on first touch.
Napi::Value Reserve(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  off_t size = static_cast<off_t>(info[1].As<Napi::Number>().Int64Value());
  if (ftruncate(fd, size) < 0) return Napi::Number::New(info.Env(), errno);
#ifdef __linux__
  int error = posix_fallocate(fd, 0, size);
  if (error != 0) return Napi::Number::New(info.Env(), error);
#endif
  return Napi::Number::New(info.Env(), 0);
}

// fstat(fd).st_size -> { errno, value: size }
Napi::Value Size(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct stat st;
  if (fstat(fd, &st) < 0) return Result(info.Env(), errno, 0);
  return Result(info.Env(), 0, static_cast<double>(st.st_size));
}

struct Mapping {
  void* address;
  size_t length;
  ipc_shm::WaitCanceller cancel_waits;
};

// Wakes any async wait still sleeping on this memory first: once unmapped, no wake could reach it.
void Unmap(Napi::Env, void*, Mapping* mapping) {
  mapping->cancel_waits(mapping->address, mapping->length);
  munmap(mapping->address, mapping->length);
  delete mapping;
}

// mmap(fd, size) shared read/write -> ArrayBuffer over the mapping (unmapped by its finalizer), or
// { errno } on failure.
Napi::Value Map(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  size_t length = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return Result(info.Env(), errno, 0);
  auto* mapping = new Mapping{address, length, ipc_shm::WaitCancellerFor(info.Env())};
  return Napi::ArrayBuffer::New(info.Env(), address, length, Unmap, mapping);
}

// Makes the mapping behind `buffer` inaccessible (PROT_NONE, so a stale view faults instead of reading
// freed memory) and detaches `buffer`; its finalizer unmaps the range later. -> errno
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  void* address = buffer.Data();
  size_t length = buffer.ByteLength();
  if (address != nullptr && length > 0) {
    ipc_shm::CancelWaitsIn(info.Env(), address, length);
    void* replaced = mmap(address, length, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (replaced == MAP_FAILED) return Napi::Number::New(info.Env(), errno);
  }
  buffer.Detach();
  return Napi::Number::New(info.Env(), 0);
}

// memfd_create(name) -> { errno, value: fd }: memory with no name in /dev/shm, gone with its last
// descriptor or mapping, and sealable (Linux only; elsewhere ENOSYS).
Napi::Value Memfd(const Napi::CallbackInfo& info) {
#ifdef __linux__
  std::string name = info[0].As<Napi::String>();
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  return Result(info.Env(), fd < 0 ? errno : 0, fd);
#else
  return Result(info.Env(), ENOSYS, -1);
#endif
}

// Seals a memfd against shrinking, for good (F_SEAL_SHRINK | F_SEAL_SEAL): a process it was handed to
// cannot truncate it and so kill every process that maps it with SIGBUS. -> errno
Napi::Value SealSize(const Napi::CallbackInfo& info) {
#ifdef __linux__
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ? errno : 0);
#else
  return Napi::Number::New(info.Env(), ENOSYS);
#endif
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), close(fd) < 0 ? errno : 0);
}

Napi::Value Unlink(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  return Napi::Number::New(info.Env(), shm_unlink(name.c_str()) < 0 ? errno : 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("chmod", Napi::Function::New(env, Chmod));
  exports.Set("reserve", Napi::Function::New(env, Reserve));
  exports.Set("size", Napi::Function::New(env, Size));
  exports.Set("map", Napi::Function::New(env, Map));
  exports.Set("release", Napi::Function::New(env, Release));
  exports.Set("memfd", Napi::Function::New(env, Memfd));
  exports.Set("sealSize", Napi::Function::New(env, SealSize));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("unlink", Napi::Function::New(env, Unlink));
  ipc_shm::RegisterFutex(env, exports);
  exports.Set("O_CREAT", Napi::Number::New(env, O_CREAT));
  exports.Set("O_EXCL", Napi::Number::New(env, O_EXCL));
  exports.Set("O_RDWR", Napi::Number::New(env, O_RDWR));
  return exports;
}

}  // namespace

NODE_API_MODULE(ipc_shm, Init)

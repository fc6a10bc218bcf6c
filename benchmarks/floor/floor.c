// The floor the benchmark compares against: what two processes on this machine can do with nothing in
// the way. `floor socketpair-rtt N`: N ping-pongs of 64 bytes over a Unix socketpair (blocking read and
// write, no framing needed for fixed sizes). `floor socketpair-bw N`: N messages of 1 MiB one way over a
// socketpair, the reader acknowledging the end with one byte. `floor shm-rtt N`: N ping-pongs through a
// shared anonymous mapping, both sides spinning on an atomic counter (the best a spinning shared-memory
// channel can do). Prints one JSON object: round-trip p50/p99 in µs, or bytes per second. With
// FLOOR_PIN=1 the parent runs on CPU 0 and the child on CPU 1, as the Node benchmark pins its main threads.
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void pin(int cpu) {
  const char *wanted = getenv("FLOOR_PIN");
  if (wanted == NULL || strcmp(wanted, "1") != 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void full(int fd, void *buffer, size_t size, int writing) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = writing ? write(fd, (char *)buffer + done, size - done) : read(fd, (char *)buffer + done, size - done);
    if (n <= 0) { perror("io"); exit(1); }
    done += (size_t)n;
  }
}

static void report_rtt(double *samples, long n) {
  qsort(samples, (size_t)n, sizeof *samples, compare);
  printf("{\"rttP50Us\":%.3f,\"rttP99Us\":%.3f}\n", samples[n / 2], samples[(long)(n * 0.99)]);
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: floor socketpair-rtt|socketpair-bw|shm-rtt N\n"); return 2; }
  long n = atol(argv[2]);
  const char *mode = argv[1];
  if (strcmp(mode, "shm-rtt") == 0) {
    _Atomic long *turn = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    atomic_store(turn, 0);
    pid_t child = fork();
    pin(child == 0 ? 1 : 0);
    if (child == 0) {
      for (long i = 0; i < n; i++) {
        while (atomic_load_explicit(turn, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(turn, 2 * i + 2, memory_order_release);
      }
      _exit(0);
    }
    double *samples = malloc(sizeof(double) * (size_t)n);
    for (long i = 0; i < n; i++) {
      double start = now_us();
      atomic_store_explicit(turn, 2 * i + 1, memory_order_release);
      while (atomic_load_explicit(turn, memory_order_acquire) != 2 * i + 2) {}
      samples[i] = now_us() - start;
    }
    waitpid(child, NULL, 0);
    report_rtt(samples, n);
    return 0;
  }
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) { perror("socketpair"); return 1; }
  if (strcmp(mode, "socketpair-rtt") == 0) {
    char message[64];
    memset(message, 42, sizeof message);
    pid_t child = fork();
    pin(child == 0 ? 1 : 0);
    if (child == 0) {
      close(fds[0]);
      for (long i = 0; i < n; i++) { full(fds[1], message, 64, 0); full(fds[1], message, 64, 1); }
      _exit(0);
    }
    close(fds[1]);
    double *samples = malloc(sizeof(double) * (size_t)n);
    for (long i = 0; i < n; i++) {
      double start = now_us();
      full(fds[0], message, 64, 1);
      full(fds[0], message, 64, 0);
      samples[i] = now_us() - start;
    }
    waitpid(child, NULL, 0);
    report_rtt(samples, n);
    return 0;
  }
  if (strcmp(mode, "socketpair-bw") == 0) {
    size_t size = 1 << 20;
    char *buffer = malloc(size);
    memset(buffer, 7, size);
    pid_t child = fork();
    pin(child == 0 ? 1 : 0);
    if (child == 0) {
      close(fds[0]);
      for (long i = 0; i < n; i++) full(fds[1], buffer, size, 0);
      full(fds[1], buffer, 1, 1);
      _exit(0);
    }
    close(fds[1]);
    double start = now_us();
    for (long i = 0; i < n; i++) full(fds[0], buffer, size, 1);
    full(fds[0], buffer, 1, 0);
    double seconds = (now_us() - start) / 1e6;
    waitpid(child, NULL, 0);
    printf("{\"bytesPerSecond\":%.0f}\n", (double)n * (double)size / seconds);
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}

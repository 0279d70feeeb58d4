/*
 * Paced exec load for `npm run bench -- storm`: W worker processes, each doing R
 * fork + exec(PROGRAM) + wait per second for S seconds, paced by clock_nanosleep against absolute
 * CLOCK_MONOTONIC deadlines (deadline k = start + k/R), so a slow iteration is caught up by the
 * next ones instead of drifting the rate down, as a sleep-relative loop would.
 *
 * Usage: spawner WORKERS PER_WORKER_RATE SECONDS [PROGRAM]   (PROGRAM defaults to /bin/true)
 * Prints one line: "spawned N in T s: R exec/s (target X); late: max M ms; failed F".
 * "late" is how far behind its deadline a worker was when it forked: large values mean the
 * machine could not sustain the target and the achieved rate is below it.
 *
 * Built by bench/storm.ts with cc (gcc, installed by bench/ensure-tools.ts). Compiled C rather
 * than a script: a Python posix_spawn loop topped out at 437 exec/s on 2 vCPUs with the agent
 * running, far below the 1,600 exec/s the CPU comparison is about.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct worker_result {
  uint64_t done;
  uint64_t failed;
  int64_t max_late_ns;
};

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec; }

static struct timespec ts_of(int64_t ns) {
  struct timespec t = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
  return t;
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ns_of(&t);
}

static void run_worker(struct worker_result *r, double rate, int64_t start, int64_t end, const char *program) {
  char *const argv[] = {(char *)program, NULL};
  const double period = 1e9 / rate;
  for (uint64_t k = 0;; k++) {
    int64_t deadline = start + (int64_t)(period * (double)k);
    if (deadline >= end) break;
    struct timespec d = ts_of(deadline);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR) {
    }
    int64_t late = now_ns() - deadline;
    if (late > r->max_late_ns) r->max_late_ns = late;
    pid_t pid = fork();
    if (pid == 0) {
      execv(program, argv);
      _exit(127);
    }
    if (pid < 0) {
      r->failed++;
      continue;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      r->done++;
    else
      r->failed++;
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s WORKERS PER_WORKER_RATE SECONDS [PROGRAM]\n", argv[0]);
    return 64;
  }
  int workers = atoi(argv[1]);
  double rate = atof(argv[2]);
  double seconds = atof(argv[3]);
  const char *program = argc > 4 ? argv[4] : "/bin/true";
  if (workers < 1 || workers > 64 || rate <= 0 || seconds <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 64;
  }
  /* Results live in shared memory so the parent can add them up after the workers exit. */
  struct worker_result *res =
      mmap(NULL, sizeof(*res) * (size_t)workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (res == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  /* Start a little in the future so every worker is forked before the first deadline. */
  int64_t start = now_ns() + 20000000LL;
  int64_t end = start + (int64_t)(seconds * 1e9);
  pid_t pids[64];
  for (int w = 0; w < workers; w++) {
    res[w] = (struct worker_result){0, 0, 0};
    pids[w] = fork();
    if (pids[w] == 0) {
      /* Offset each worker by a fraction of a period so they do not fork in lockstep. */
      run_worker(&res[w], rate, start + (int64_t)(1e9 / rate * w / workers), end, program);
      _exit(0);
    }
    if (pids[w] < 0) {
      perror("fork");
      return 1;
    }
  }
  for (int w = 0; w < workers; w++) {
    int status;
    while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR) {
    }
  }
  int64_t finished = now_ns();
  uint64_t done = 0, failed = 0;
  int64_t late = 0;
  for (int w = 0; w < workers; w++) {
    done += res[w].done;
    failed += res[w].failed;
    if (res[w].max_late_ns > late) late = res[w].max_late_ns;
  }
  /* The rate over the scheduled window, or longer if the last waits ran past its end. */
  double elapsed = (double)((finished > end ? finished : end) - start) / 1e9;
  printf("spawned %llu in %.3f s: %.1f exec/s (target %.0f); late: max %.1f ms; failed %llu\n", (unsigned long long)done,
         elapsed, (double)done / elapsed, rate * workers, (double)late / 1e6, (unsigned long long)failed);
  return failed > 0 ? 1 : 0;
}

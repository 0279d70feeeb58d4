/*
 * The native floor of the agent's capture work, for `npm run bench -- storm steady`: a C reader
 * doing exactly what the agent's capture thread does with the kernel and /proc, and nothing of
 * the rest (no process table, no records, no export). What the agent spends above this row is
 * ours, not the kernel's.
 *
 * - Subscribes to every proc connector event type (PROC_CN_MCAST_LISTEN, no filter), as the
 *   agent's default subscription does, with the same 128 MiB receive buffer.
 * - Per exec, as the agent's exec snapshot with its defaults (src/kernel/proc-files.ts): one O_PATH
 *   fd on /proc/<pid>, then through it read cmdline, readlink exe, open the program file through
 *   exe (statx of the fd, pread of its first page, close), read stat and status, readlink cwd, read
 *   cgroup, loginuid and sessionid, and readlink ns/mnt (process.executableMount).
 * - Per process fork (child pid = child tgid), as the agent's fork snapshot: read the child's stat
 *   by full path.
 * - Writes one line per exec (pid, exe, cwd and the first cmdline word) to stdout, buffered
 *   (point it at a file).
 *
 * Usage: floor-reader > FILE; SIGINT or SIGTERM prints "events N execs M" to stderr and exits.
 * Built by bench/storm.ts with cc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* Reads the file `name` under the /proc/<pid> directory fd into buf; returns bytes read or -1. */
static ssize_t read_at(int dir, const char *name, char *buf, size_t size) {
  int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n >= 0) buf[n] = 0;
  return n;
}

int main(void) {
  int sk = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (sk < 0) {
    perror("socket");
    return 1;
  }
  int rcvbuf = 128 << 20;
  setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
  if (bind(sk, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("bind");
    return 1;
  }
  struct {
    struct nlmsghdr nl;
    struct cn_msg cn;
    enum proc_cn_mcast_op op;
  } __attribute__((packed)) sub = {0};
  sub.nl.nlmsg_len = sizeof sub;
  sub.nl.nlmsg_type = NLMSG_DONE;
  sub.nl.nlmsg_pid = getpid();
  sub.cn.id.idx = CN_IDX_PROC;
  sub.cn.id.val = CN_VAL_PROC;
  sub.cn.len = sizeof(enum proc_cn_mcast_op);
  sub.op = PROC_CN_MCAST_LISTEN;
  if (send(sk, &sub, sizeof sub, 0) < 0) {
    perror("send");
    return 1;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  static char out[1 << 16];
  setvbuf(stdout, out, _IOFBF, sizeof out);
  char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
  char stat[1024], status[4096], cmdline[4096], cgroup[1024], loginuid[32], sessionid[32], exe[4096], cwd[4096], mntns[64];
  static char elf[4096];
  unsigned long events = 0, execs = 0, forks = 0, elfs = 0;
  while (!stop) {
    ssize_t len = recv(sk, buf, sizeof buf, 0);
    if (len <= 0) continue; /* EINTR on stop, ENOBUFS on overflow: go on, as the agent does */
    for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_type != NLMSG_DONE) continue;
      struct cn_msg *cn = NLMSG_DATA(nh);
      struct proc_event *ev = (struct proc_event *)cn->data;
      events++;
      if (ev->what == PROC_EVENT_FORK) {
        if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid) continue;
        char path[48];
        snprintf(path, sizeof path, "/proc/%d/stat", ev->event_data.fork.child_tgid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
          if (read(fd, stat, sizeof stat) >= 0) forks++;
          close(fd);
        }
        continue;
      }
      if (ev->what != PROC_EVENT_EXEC) continue;
      execs++;
      char path[32];
      snprintf(path, sizeof path, "/proc/%d", ev->event_data.exec.process_tgid);
      int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dir < 0) continue;
      read_at(dir, "cmdline", cmdline, sizeof cmdline);
      ssize_t n = readlinkat(dir, "exe", exe, sizeof exe - 1);
      exe[n < 0 ? 0 : n] = 0;
      int fd = openat(dir, "exe", O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        struct statx sx;
        statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
        if (pread(fd, elf, sizeof elf, 0) > 0) elfs++;
        close(fd);
      }
      read_at(dir, "stat", stat, sizeof stat);
      read_at(dir, "status", status, sizeof status);
      n = readlinkat(dir, "cwd", cwd, sizeof cwd - 1);
      cwd[n < 0 ? 0 : n] = 0;
      read_at(dir, "cgroup", cgroup, sizeof cgroup);
      read_at(dir, "loginuid", loginuid, sizeof loginuid);
      read_at(dir, "sessionid", sessionid, sizeof sessionid);
      n = readlinkat(dir, "ns/mnt", mntns, sizeof mntns - 1);
      mntns[n < 0 ? 0 : n] = 0;
      close(dir);
      printf("exec %d %s %s %s %s\n", ev->event_data.exec.process_tgid, exe, cwd, cmdline, mntns);
    }
  }
  fflush(stdout);
  fprintf(stderr, "events %lu execs %lu forks %lu elfs %lu\n", events, execs, forks, elfs);
  return 0;
}

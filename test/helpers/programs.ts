/** C programs the system tests build with gcc to make real kernel events. */

/** Copies /usr/bin/sleep into a memfd and fexecve's it with argv[1] (a fileless exec). */
export const MEMFD_EXEC = `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
  int in = open("/usr/bin/sleep", O_RDONLY);
  struct stat st;
  if (in < 0 || fstat(in, &st) != 0) { perror("open"); return 2; }
  int fd = memfd_create("payload", MFD_CLOEXEC);
  if (fd < 0) { perror("memfd_create"); return 2; }
  off_t off = 0;
  while (off < st.st_size) if (sendfile(fd, in, &off, st.st_size - off) <= 0) { perror("sendfile"); return 2; }
  char *args[] = { "sleep", argc > 1 ? argv[1] : "0.3", NULL };
  fexecve(fd, args, environ);
  perror("fexecve");
  return 2;
}
`;

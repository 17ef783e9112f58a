/*
 * The supervisor's files: exit.json (opened before the drop, written once at the end) and
 * the job's output files, opened the way src/runtime/safe-files.ts documents: never
 * blocking, never anything but a regular file or an allowed character device.
 */
#define _GNU_SOURCE
#include "grm-supervisor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int open_exit_file(const char *job_dir) {
  char file[4096];
  if ((size_t)snprintf(file, sizeof file, "%s/exit.json", job_dir) >= sizeof file) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  // The status's blocks, taken now while the file stays empty (KEEP_SIZE): a data dir that
  // fills up while the master runs must not cost the record of how it ended. Best effort: a
  // filesystem without fallocate, or already full, gets the plain write at the end.
  if (fd >= 0) (void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, EXIT_STATUS_RESERVE);
  return fd;
}

/** A JSON string: quotes, backslashes and control characters escaped; other bytes as they are. */
static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

/** Now in ISO 8601 with milliseconds, as JavaScript's toISOString. */
static void iso_now(char *buf, size_t cap) {
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, cap - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/**
 * exit.json through the descriptor opened before the drop: written into the blocks reserved at
 * open (no truncation before: it would give them back), cut to its length, synced.
 */
int write_exit_status(int fd, const struct exit_status *st) {
  char *text = NULL, when[40];
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) return -1;
  iso_now(when, sizeof when);
  fputs("{\n  \"exitCode\": ", f);
  if (st->exit_code < 0) fputs("null", f);
  else fprintf(f, "%d", st->exit_code);
  fputs(",\n  \"signal\": ", f);
  if (st->signal == NULL) fputs("null", f);
  else json_string(f, st->signal);
  fprintf(f, ",\n  \"endedAt\": \"%s\"", when);
  if (st->reason != NULL) fputs(",\n  \"reason\": ", f), json_string(f, st->reason);
  if (st->start_failed) fputs(",\n  \"startFailed\": true", f);
  fputs("\n}\n", f);
  if (fclose(f) != 0) return -1;
  int rc = 0;
  for (size_t at = 0; rc == 0 && at < len;) {
    ssize_t n = pwrite(fd, text + at, len - at, (off_t)at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) rc = -1;
    else at += (size_t)n;
  }
  free(text);
  if (rc == 0 && ftruncate(fd, (off_t)len) != 0) rc = -1;
  if (rc == 0 && fsync(fd) != 0) rc = -1;
  return rc;
}

/** What kind of non-regular file a stat describes, in ls(1)'s words. */
static const char *file_kind(const struct stat *st) {
  if (S_ISFIFO(st->st_mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(st->st_mode)) return "a socket";
  if (S_ISCHR(st->st_mode)) return "a character device";
  if (S_ISBLK(st->st_mode)) return "a block device";
  if (S_ISDIR(st->st_mode)) return "a directory";
  if (S_ISLNK(st->st_mode)) return "a symbolic link";
  return "not a regular file";
}

static int allowed_device(const struct stat *st, const char **devices, size_t n) {
  if (!S_ISCHR(st->st_mode)) return 0;
  for (size_t i = 0; i < n; i++) {
    struct stat d;
    if (stat(devices[i], &d) == 0 && d.st_dev == st->st_dev && d.st_ino == st->st_ino && d.st_rdev == st->st_rdev) return 1;
  }
  return 0;
}

static void refusal(const struct stat *st, const char **devices, size_t n, char *why, size_t cap) {
  size_t at = (size_t)snprintf(why, cap, "it is %s; job output goes only to regular files", file_kind(st));
  for (size_t i = 0; i < n && at < cap; i++) at += (size_t)snprintf(why + at, cap - at, "%s%s", i ? ", " : " and ", devices[i]);
  if (at < cap) snprintf(why + at, cap - at, " (runtime.outputDevices)");
}

/** The same file again through /proc/self/fd (the very inode), without O_NONBLOCK. */
static int reopen_blocking(int fd) {
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  int again = open(self, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
  if (again < 0) return fd; // no /proc: O_NONBLOCK changes nothing for a regular file on Linux
  close(fd);
  return again;
}

/** An output file opened (created) for appending; -1 with the reason in why. */
int open_output_file(const char *file, int truncate, const char **devices, size_t ndevices, char *why, size_t cap) {
  int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
  struct stat st;
  if (fd < 0) {
    int e = errno;
    // ENXIO: a FIFO nobody reads, or a socket; stat (which does not block) says which
    if (e == ENXIO && stat(file, &st) == 0) refusal(&st, devices, ndevices, why, cap);
    else snprintf(why, cap, "%s", strerror(e));
    return -1;
  }
  if (fstat(fd, &st) != 0) {
    snprintf(why, cap, "%s", strerror(errno));
    close(fd);
    return -1;
  }
  if (allowed_device(&st, devices, ndevices)) return fd;
  if (!S_ISREG(st.st_mode)) {
    refusal(&st, devices, ndevices, why, cap);
    close(fd);
    return -1;
  }
  if (truncate && ftruncate(fd, 0) != 0) {
    snprintf(why, cap, "%s", strerror(errno));
    close(fd);
    return -1;
  }
  return reopen_blocking(fd);
}

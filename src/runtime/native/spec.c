/*
 * The spec the launcher writes for grm-supervisor: `key\0value\0` pairs, repeated keys for
 * lists (arg, env, dev, grp). NUL-separated because no argument, environment entry or path
 * can hold a NUL, so nothing needs quoting or escaping, and C reads it without a parser.
 */
#define _GNU_SOURCE
#include "grm-supervisor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *grow(void *p, size_t n, size_t size) {
  void *q = realloc(p, n * size);
  if (q == NULL) {
    perror("grm-supervisor");
    _exit(70);
  }
  return q;
}

/** Appends to a NULL-terminated list whose capacity doubles. */
static char **push(char **list, size_t *n, size_t *cap, char *v) {
  if (*n + 2 > *cap) {
    *cap = *cap ? *cap * 2 : 16;
    list = grow(list, *cap, sizeof *list);
  }
  list[(*n)++] = v;
  list[*n] = NULL;
  return list;
}

static int parse_long(const char *v, long *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0') return -1;
  *out = n;
  return 0;
}

/** One key/value pair into the spec; -1 for an unknown key or a bad number. */
static int take(struct spec *s, const char *key, char *v, size_t *argcap, size_t *devcap, size_t *grpcap) {
  long n = 0;
  if (!strcmp(key, "arg")) s->argv = push(s->argv, &s->argc, argcap, v);
  else if (!strcmp(key, "env")) s->envp = push(s->envp, &s->envc, &s->env_cap, v);
  else if (!strcmp(key, "dev")) s->devices = (const char **)push((char **)s->devices, &s->ndevices, devcap, v);
  else if (!strcmp(key, "dir")) s->job_dir = v;
  else if (!strcmp(key, "cmd")) s->command = v;
  else if (!strcmp(key, "cwd")) s->cwd = v;
  else if (!strcmp(key, "out")) s->stdout_path = v;
  else if (!strcmp(key, "err")) s->stderr_path = v;
  else if (!strcmp(key, "mode")) s->truncate = !strcmp(v, "truncate");
  else if (parse_long(v, &n) != 0) return -1;
  else if (!strcmp(key, "job")) s->job_id = n;
  else if (!strcmp(key, "grace")) s->grace_ms = n;
  else if (!strcmp(key, "uid")) s->run_as = 1, s->uid = (uid_t)n;
  else if (!strcmp(key, "gid")) s->gid = (gid_t)n;
  else if (!strcmp(key, "grp")) {
    if (s->ngroups + 1 > *grpcap) {
      *grpcap = *grpcap ? *grpcap * 2 : 8;
      s->groups = grow(s->groups, *grpcap, sizeof *s->groups);
    }
    s->groups[s->ngroups++] = (gid_t)n;
  } else return -1;
  return 0;
}

/** The whole file, read through a descriptor that never follows a link; NULL with errno. */
static char *slurp(const char *file, size_t max_bytes, size_t *len) {
  int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  char *buf = NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max_bytes) {
    errno = errno ? errno : EINVAL;
    close(fd);
    return NULL;
  }
  buf = grow(NULL, (size_t)st.st_size + 1, 1);
  size_t at = 0;
  while (at < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + at, (size_t)st.st_size - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    at += (size_t)n;
  }
  close(fd);
  buf[at] = '\0';
  *len = at;
  return buf;
}

int read_spec(const char *file, struct spec *s, size_t max_bytes, char *why, size_t cap) {
  size_t len = 0, argcap = 0, devcap = 0, grpcap = 0;
  memset(s, 0, sizeof *s);
  s->grace_ms = 2000;
  errno = 0;
  char *buf = slurp(file, max_bytes, &len);
  if (buf == NULL) {
    snprintf(why, cap, "cannot read the spec '%s': %s", file, strerror(errno ? errno : EINVAL));
    return -1;
  }
  unlink(file); // it holds the job's environment
  for (size_t at = 0; at < len;) {
    char *key = buf + at;
    size_t klen = strlen(key);
    if (at + klen + 1 >= len) break;
    char *value = key + klen + 1;
    at += klen + 1 + strlen(value) + 1;
    if (at > len || take(s, key, value, &argcap, &devcap, &grpcap) != 0) {
      snprintf(why, cap, "the spec '%s' is malformed at '%.40s'", file, key);
      return -1;
    }
  }
  if (!s->job_dir || !s->command || !s->cwd || !s->stdout_path || s->argc == 0) {
    snprintf(why, cap, "the spec '%s' lacks dir, cmd, arg, cwd or out", file);
    return -1;
  }
  return 0;
}

/** Sets key=value unless the environment already has the key (or the value is empty). */
void spec_default_env(struct spec *s, const char *key, const char *value) {
  size_t klen = strlen(key);
  if (value == NULL || *value == '\0') return;
  for (size_t i = 0; i < s->envc; i++)
    if (!strncmp(s->envp[i], key, klen) && s->envp[i][klen] == '=') return;
  char *entry = grow(NULL, klen + strlen(value) + 2, 1);
  sprintf(entry, "%s=%s", key, value);
  s->envp = push(s->envp, &s->envc, &s->env_cap, entry);
}

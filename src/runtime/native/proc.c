/*
 * Processes: the exec of the job (PATH search without a shell) and the end of a step's
 * stragglers. /proc is read as src/runtime/proc.ts reads it: zombies count as gone.
 */
#define _GNU_SOURCE
#include "grm-supervisor.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** "SIGTERM", as Node.js names signals in an exit status. */
void signal_name(int sig, char *buf, size_t cap) {
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev != NULL) snprintf(buf, cap, "SIG%s", abbrev);
  else snprintf(buf, cap, "%d", sig);
}

/** The environment's PATH, or the default the C library would use without one. */
static const char *search_path(char **envp) {
  for (char **e = envp; e && *e; e++)
    if (!strncmp(*e, "PATH=", 5)) return *e + 5;
  return "/usr/local/bin:/usr/bin:/bin";
}

/**
 * execve with a search of the job's PATH, as execvpe does, minus its fallback of running a
 * file with no #! line through /bin/sh: GRM never hands a job to a shell it did not ask for.
 * Returns only on failure, with the errno that best says why (EACCES if any candidate had it).
 */
int exec_in_path(const char *command, char **argv, char **envp) {
  static char *empty[] = {NULL};
  if (envp == NULL) envp = empty;
  if (strchr(command, '/') != NULL) {
    execve(command, argv, envp);
    return errno;
  }
  const char *path = search_path(envp);
  int seen_eacces = 0, last = ENOENT;
  size_t clen = strlen(command);
  while (*path) {
    const char *colon = strchrnul(path, ':');
    size_t dlen = (size_t)(colon - path);
    char file[4096];
    if (dlen + clen + 2 <= sizeof file) {
      if (dlen == 0) snprintf(file, sizeof file, "%s", command); // an empty entry: the working directory
      else snprintf(file, sizeof file, "%.*s/%s", (int)dlen, path, command);
      execve(file, argv, envp);
      last = errno;
      if (last == EACCES) seen_eacces = 1;
      else if (last != ENOENT && last != ENOTDIR && last != ESTALE && last != ENODEV && last != ETIMEDOUT) return last;
    }
    path = *colon ? colon + 1 : colon;
  }
  return seen_eacces ? EACCES : (last == ENOTDIR ? ENOENT : last);
}

/** The live (non-zombie) members of a group other than this process; -1 without /proc. */
static int group_members(pid_t pgid, pid_t *out, int cap) {
  DIR *d = opendir("/proc");
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
    char file[300], text[1024];
    snprintf(file, sizeof file, "/proc/%s/stat", ent->d_name);
    FILE *f = fopen(file, "re");
    if (f == NULL) continue;
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *close_paren = strrchr(text, ')'); // the command name may hold spaces and ')'
    char state;
    int ppid, pgrp;
    if (close_paren == NULL || sscanf(close_paren + 2, "%c %d %d", &state, &ppid, &pgrp) != 3) continue;
    pid_t pid = (pid_t)atoi(ent->d_name);
    if (pgrp != pgid || state == 'Z' || state == 'X' || pid == getpid()) continue;
    if (n < cap) out[n] = pid;
    n++;
  }
  closedir(d);
  return n;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/**
 * SLURM ends every process of a step when the batch script ends. After the master exits,
 * leftover members (background jobs it forgot) get SIGTERM, then SIGKILL after the grace.
 */
void end_stragglers(pid_t pgid, long grace_ms) {
  pid_t left[4096];
  int n = group_members(pgid, left, 4096);
  if (n == 0) return;
  kill(-pgid, SIGTERM); // our own handler ignores it
  long deadline = now_ms() + (n < 0 ? (grace_ms < 200 ? grace_ms : 200) : grace_ms);
  while (now_ms() < deadline) {
    sleep_ms(50);
    if (group_members(pgid, left, 4096) == 0) return;
  }
  n = group_members(pgid, left, 4096);
  if (n < 0 || n > 4096) {
    // no /proc to tell members apart, or too many to list: the group, ourselves included
    // (exit.json is written)
    kill(-pgid, SIGKILL);
    return;
  }
  for (int i = 0; i < n; i++) kill(left[i], SIGKILL);
}

/* The parts of grm-supervisor (see grm-supervisor.c for what it does and why). */
#ifndef GRM_SUPERVISOR_H
#define GRM_SUPERVISOR_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/** What the launcher asks for (spec.c reads it from the file master-launcher.ts writes). */
struct spec {
  long job_id;
  const char *job_dir;
  const char *command;
  /** argv for exec: command first, NULL-terminated. */
  char **argv;
  size_t argc;
  const char *cwd;
  /** The job's complete environment, "K=V", NULL-terminated. */
  char **envp;
  size_t envc;
  size_t env_cap;
  const char *stdout_path;
  /** NULL: stderr goes to the stdout file (one descriptor, as sbatch without -e). */
  const char *stderr_path;
  int truncate;
  const char **devices;
  size_t ndevices;
  /** Whether to drop to uid/gid/groups before opening anything the job named. */
  int run_as;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  long grace_ms;
};

/** exit.json's content: exit_code -1 with signal NULL is JSON null for both. */
struct exit_status {
  int exit_code;
  const char *signal;
  const char *reason;
  int start_failed;
};

/* spec.c */
int read_spec(const char *file, struct spec *s, size_t max_bytes, char *why, size_t cap);
void spec_default_env(struct spec *s, const char *key, const char *value);

/** Bytes of exit.json reserved at open for the status (one is a few hundred bytes; a longer one needs space of its own). */
#define EXIT_STATUS_RESERVE 4096

/* files.c */
int open_exit_file(const char *job_dir);
int write_exit_status(int fd, const struct exit_status *st);
int open_output_file(const char *file, int truncate, const char **devices, size_t ndevices, char *why, size_t cap);

/* proc.c */
void end_stragglers(pid_t pgid, long grace_ms);
void signal_name(int sig, char *buf, size_t cap);
int exec_in_path(const char *command, char **argv, char **envp);

#endif

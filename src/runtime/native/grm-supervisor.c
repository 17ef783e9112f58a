/*
 * grm-supervisor: the supervisor of one runtime master, GRM's tiny slurmstepd.
 *
 *   grm-supervisor <jobDir>/supervisor-spec      (started by src/runtime/master-launcher.ts)
 *
 * Native, not Node.js: one supervisor lives as long as its job, and a Node process costs
 * ~43 MB and ~40 ms to start where this costs ~1 MB and ~1 ms (slurmstepd is C for the same
 * reason). What it does, in this order, is the contract of master-launcher.ts:
 *
 *  1. reads the spec (NUL-separated `key\0value\0` pairs, written 0600 by the daemon) and
 *     deletes it: it holds the job's environment;
 *  2. opens exit.json while it is still the daemon's account (the job's user could not);
 *  3. drops to the job's account: setgroups, setgid, setuid, checked (as slurmstepd does,
 *     before touching any path the job named; the kernel then marks it non-dumpable);
 *  4. opens the job's output files as that account, never blocking (O_NONBLOCK: a FIFO does
 *     not stop it) and only regular files or an allowed character device;
 *  5. forks and execs the command in its own process group (one kill(-pgid) reaches all),
 *     with a PATH search in the job's environment and no /bin/sh fallback;
 *  6. tells the launcher "started <pid>" (or "failed <reason>") on fd 3 and closes it;
 *  7. waits, records the exit status in exit.json (synced), then ends the group's stragglers
 *     (SIGTERM, SIGKILL after the grace), as SLURM ends a step's processes.
 *
 * It survives the daemon: exit.json is written by this process. It catches (and ignores) the
 * catchable termination signals, meant for the job in the same group: it must live to record
 * how the job ended. Only SIGKILL stops it, and then the daemon records what it knows.
 */
#define _GNU_SOURCE
#include "grm-supervisor.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATUS_FD 3
#define MAX_SPEC_BYTES (64u << 20)

static int job_stderr = -1;
static int exit_fd = -1;
static struct spec S;

/** One "GRM: ..." line on the job's stderr, when it is open. */
static void error_line(const char *text) {
  if (job_stderr < 0) return;
  dprintf(job_stderr, "GRM: %s\n", text);
}

/** The one message to the launcher; the channel is closed right after, so nothing ties us to it. */
static void report(const char *kind, const char *text) {
  static int sent = 0;
  if (sent) return;
  sent = 1;
  dprintf(STATUS_FD, "%s %s\n", kind, text);
  close(STATUS_FD);
}

static void report_started(pid_t pid) {
  char buf[32];
  if (pid > 0) snprintf(buf, sizeof buf, "%d", (int)pid);
  else strcpy(buf, "-");
  report("started", buf);
}

/** Records the status, tells the launcher, ends the stragglers, exits (71: not recorded). */
static void finish(const struct exit_status *st, const char *kind, const char *text) {
  int recorded = write_exit_status(exit_fd, st) == 0;
  if (!recorded) error_line("cannot record the exit status");
  report(kind, text);
  end_stragglers(getpid(), S.grace_ms);
  exit(recorded ? 0 : 71);
}

/** The command could not run (workdir, exec): the job ran and failed, like SLURM's 126/127. */
static void cannot_start(int code, const char *reason) {
  struct exit_status st = {.exit_code = code, .signal = NULL, .reason = reason, .start_failed = 0};
  error_line(reason);
  finish(&st, "started", "-");
}

/** GRM could not set the master up (account, output file): MasterStartFailed, with why. */
static void setup_failed(const char *reason) {
  struct exit_status st = {.exit_code = -1, .signal = NULL, .reason = reason, .start_failed = 1};
  finish(&st, "failed", reason);
}

static void ignore_signal(int sig) { (void)sig; }

/**
 * A handler, not SIG_IGN: handled signals go back to their default on exec, ignored ones
 * would stay ignored in the job. SIGPIPE is ignored (a launcher gone must not kill us) and
 * put back in the child.
 */
static void catch_signals(void) {
  static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ignore_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

/** Becomes the job's account for good: groups first, the uid last. 0, or an errno. */
static int drop_privileges(void) {
  if (setgroups(S.ngroups, S.groups) != 0) return errno;
  if (setgid(S.gid) != 0) return errno;
  if (setuid(S.uid) != 0) return errno;
  if (getuid() != S.uid || geteuid() != S.uid || getgid() != S.gid || getegid() != S.gid) return EPERM;
  return 0;
}

/** USER, LOGNAME and HOME of the account the job runs as, where the submission left them out. */
static void fill_account_env(void) {
  struct passwd *pw = getpwuid(getuid());
  if (pw == NULL) return;
  spec_default_env(&S, "USER", pw->pw_name);
  spec_default_env(&S, "LOGNAME", pw->pw_name);
  spec_default_env(&S, "HOME", pw->pw_dir);
}

/** The job's stdout and stderr descriptors (one for both when the spec names no stderr). */
static int open_outputs(int *out, int *err, char *why, size_t cap) {
  const char *as = S.run_as ? " (as uid " : "";
  char asbuf[40] = "";
  if (S.run_as) snprintf(asbuf, sizeof asbuf, "%s%u)", as, (unsigned)S.uid);
  char reason[1024];
  *out = open_output_file(S.stdout_path, S.truncate, S.devices, S.ndevices, reason, sizeof reason);
  if (*out < 0) {
    snprintf(why, cap, "cannot open the standard output file '%s'%s: %s", S.stdout_path, asbuf, reason);
    return -1;
  }
  if (S.stderr_path == NULL) {
    *err = *out;
    return 0;
  }
  *err = open_output_file(S.stderr_path, S.truncate, S.devices, S.ndevices, reason, sizeof reason);
  if (*err < 0) {
    close(*out);
    snprintf(why, cap, "cannot open the standard error file '%s'%s: %s", S.stderr_path, asbuf, reason);
    return -1;
  }
  return 0;
}

static int usable_directory(const char *dir) {
  struct stat st;
  // as the job's user: a folder root may enter but the user may not is no working directory
  return access(dir, X_OK) == 0 && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/** Why the exec failed, in the words the daemon's users see (and the exit code: 127 or 126). */
static int exec_failure(int e, char *why, size_t cap) {
  const char *text = e == ENOENT ? "No such file or directory (or its interpreter is missing)" : strerror(e);
  snprintf(why, cap, "cannot execute '%s': %s", S.command, text);
  return e == ENOENT ? 127 : 126;
}

/** In the forked child: the job's descriptors, signals, directory and program. Never returns. */
static void exec_job(int out, int err, int errpipe) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int e = 0;
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) e = errno;
  else if (chdir(S.cwd) != 0) e = errno;
  else e = exec_in_path(S.command, S.argv, S.envp);
  ssize_t w = write(errpipe, &e, sizeof e);
  (void)w;
  _exit(127);
}

/** Forks the job; its pid, or 0 with code and why set when it could not run. */
static pid_t start_job(int out, int err, int *code, char *why, size_t cap) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    *code = exec_failure(errno, why, cap);
    return 0;
  }
  pid_t pid = fork();
  if (pid == 0) exec_job(out, err, p[1]);
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    *code = exec_failure(errno, why, cap);
    return 0;
  }
  int e = 0;
  ssize_t n;
  do n = read(p[0], &e, sizeof e); while (n < 0 && errno == EINTR);
  close(p[0]);
  if (n <= 0) return pid; // closed by a successful exec
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  *code = exec_failure(e, why, cap);
  return 0;
}

static void wait_job(pid_t pid) {
  int ws;
  while (waitpid(pid, &ws, 0) < 0) {
    if (errno != EINTR) {
      struct exit_status st = {.exit_code = -1, .signal = NULL, .reason = "the supervisor lost its job", .start_failed = 0};
      finish(&st, "started", "-");
    }
  }
  char sig[32] = "";
  struct exit_status st = {.exit_code = -1, .signal = NULL, .reason = NULL, .start_failed = 0};
  if (WIFEXITED(ws)) st.exit_code = WEXITSTATUS(ws);
  else {
    signal_name(WTERMSIG(ws), sig, sizeof sig);
    st.signal = sig;
  }
  finish(&st, "started", "-");
}

/**
 * Only 0-2 (/dev/null) and the status pipe are ours: a descriptor the daemon's parent leaked
 * (a pipe of whoever started it) would be held open by every job for as long as it runs,
 * and a reader waiting for its end would wait for the jobs. close_range where the kernel has
 * it (5.9+), else one by one.
 */
static void close_inherited(void) {
  if (close_range(STATUS_FD + 1, ~0U, 0) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = STATUS_FD + 1; fd < (max > 0 && max < 65536 ? max : 65536); fd++) close((int)fd);
}

int main(int argc, char **argv) {
  catch_signals();
  close_inherited();
  fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC); // the job must not hold the launcher's channel
  char why[2048];
  if (argc != 2 || read_spec(argv[1], &S, MAX_SPEC_BYTES, why, sizeof why) != 0) {
    if (argc != 2) snprintf(why, sizeof why, "usage: grm-supervisor <spec>");
    char msg[2100];
    snprintf(msg, sizeof msg, "supervisor failed: %s", why);
    report("failed", msg);
    return 70;
  }
  exit_fd = open_exit_file(S.job_dir);
  if (exit_fd < 0) {
    snprintf(why, sizeof why, "supervisor failed: cannot create exit.json in '%s': %s", S.job_dir, strerror(errno));
    report("failed", why);
    return 70;
  }
  if (S.run_as) {
    int e = drop_privileges();
    if (e != 0) {
      snprintf(why, sizeof why, "cannot become uid %u gid %u: %s", (unsigned)S.uid, (unsigned)S.gid, strerror(e));
      setup_failed(why);
    }
    fill_account_env();
  }
  int out, err;
  if (open_outputs(&out, &err, why, sizeof why) != 0) setup_failed(why);
  job_stderr = err;
  if (!usable_directory(S.cwd)) {
    snprintf(why, sizeof why, "cannot use working directory '%s': not an existing directory this job may enter", S.cwd);
    cannot_start(1, why);
  }
  int code = 0;
  pid_t pid = start_job(out, err, &code, why, sizeof why);
  if (pid == 0) cannot_start(code, why);
  report_started(pid);
  wait_job(pid);
  return 0;
}

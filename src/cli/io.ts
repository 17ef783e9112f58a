/** The CLI's world, passed in so tests can run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  readStdin?: () => Promise<string>;
  /** stderr is a terminal: progress bars are drawn there, never into a file or a pipe. */
  stderrIsTTY?: boolean;
}

/**
 * What a shell reports for a command killed by SIGPIPE: 128 + 13. A reader that stops early
 * (`grm squeue | head`) closes the pipe and the next write fails; squeue and coreutils die of
 * SIGPIPE there, silently, so `set -o pipefail` scripts see 141. Node ignores SIGPIPE, so the
 * CLI exits with that status itself, without a word: no one is reading any more.
 */
export const BROKEN_PIPE_STATUS = 141;

let pipesWatched = false;

function exitQuietlyOnBrokenPipe(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(BROKEN_PIPE_STATUS);
      throw e;
    });
  }
}

export function processIo(): CliIo {
  exitQuietlyOnBrokenPipe();
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    stderrIsTTY: process.stderr.isTTY === true,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** GRM_URL, else the daemon's own host/port/TLS variables, else the default address. */
export function daemonUrl(env: NodeJS.ProcessEnv): string {
  if (env.GRM_URL) return env.GRM_URL;
  const host = env.GRM_HOST || '127.0.0.1';
  const port = env.GRM_PORT || '8080';
  // a daemon with a certificate speaks only https (a self-signed one: NODE_EXTRA_CA_CERTS)
  const scheme = env.GRM_TLS_CERT ? 'https' : 'http';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The CLI's world, passed in so tests can run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  readStdin?: () => Promise<string>;
}

export function processIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** GRM_URL, else the daemon's own host/port variables, else the default address. */
export function daemonUrl(env: NodeJS.ProcessEnv): string {
  if (env.GRM_URL) return env.GRM_URL;
  const host = env.GRM_HOST || '127.0.0.1';
  const port = env.GRM_PORT || '8080';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

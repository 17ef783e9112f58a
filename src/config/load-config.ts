/**
 * Loads the one configuration: defaults < file (grm.config.json / .yaml, or GRM_CONFIG) <
 * GRM_* environment variables. A wrong value stops the daemon with a message that names the
 * key, what was given and what is allowed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Value, type ValueError } from '@sinclair/typebox/value';
import YAML from 'yaml';
import { GrmError } from '../errors.js';
import { checkConfigSemantics } from './cluster-from-config.js';
import { resolveCompssConfig } from '../compss/compss-config.js';
import { resolvePolicyConfig } from '../policy/policy-config.js';
import { ConfigSchema, type GrmConfig } from './config-schema.js';

/** Environment variable → config key path, with how to read the string. */
const ENV_OVERRIDES: { env: string; key: string[]; kind: 'string' | 'integer' }[] = [
  { env: 'GRM_HOST', key: ['host'], kind: 'string' },
  { env: 'GRM_PORT', key: ['port'], kind: 'integer' },
  { env: 'GRM_TLS_KEY', key: ['tls', 'key'], kind: 'string' },
  { env: 'GRM_TLS_CERT', key: ['tls', 'cert'], kind: 'string' },
  { env: 'GRM_ADMIN_TOKEN_FILE', key: ['auth', 'adminTokenFile'], kind: 'string' },
  { env: 'GRM_DATA_DIR', key: ['dataDir'], kind: 'string' },
  { env: 'GRM_BACKEND', key: ['backend'], kind: 'string' },
  { env: 'GRM_MAX_MASTERS', key: ['maxConcurrentMasters'], kind: 'integer' },
  { env: 'GRM_LOG_LEVEL', key: ['logLevel'], kind: 'string' },
  { env: 'GRM_SLURM_BIN_DIR', key: ['slurm', 'binDir'], kind: 'string' },
  { env: 'GRM_SLURM_POLL_MS', key: ['slurm', 'pollIntervalMs'], kind: 'integer' },
  { env: 'GRM_RUNCOMPSS', key: ['compss', 'runcompss'], kind: 'string' },
  { env: 'GRM_KILL_GRACE_MS', key: ['runtime', 'killGraceMs'], kind: 'integer' },
  { env: 'GRM_METRICS_TOKEN_FILE', key: ['metrics', 'tokenFile'], kind: 'string' },
  { env: 'GRM_SHUTDOWN_TIMEOUT_MS', key: ['shutdownTimeoutMs'], kind: 'integer' },
];

const DEFAULT_FILES = ['grm.config.json', 'grm.config.yaml', 'grm.config.yml'];

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Values that win over everything (tests, CLI flags). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadConfigOptions = {}): GrmConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw = readConfigFile(env, cwd);
  applyEnvOverrides(raw, env);
  deepAssign(raw, options.overrides ?? {});
  const config = validateConfig(raw);
  checkConfigSemantics(config);
  resolveCompssConfig(config.compss);
  // the account tree, QOS cross-references and time spellings: a bad policy stops the load
  resolvePolicyConfig(config.policy, { queueDepth: config.scheduler.queueDepth });
  config.dataDir = path.resolve(cwd, config.dataDir);
  return config;
}

/** Validates a raw object (defaults filled in); throws E_CONFIG_INVALID naming every bad key. */
export function validateConfig(raw: unknown): GrmConfig {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw ?? {}));
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const lines = dedupeByPath(errors).map(describeError);
    throw new GrmError('E_CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, {
      field: keyOf(errors[0]!),
    });
  }
  return withDefaults as GrmConfig;
}

function readConfigFile(env: NodeJS.ProcessEnv, cwd: string): Record<string, unknown> {
  const explicit = env.GRM_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : DEFAULT_FILES.map((f) => path.join(cwd, f)).find(fs.existsSync);
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new GrmError('E_CONFIG_INVALID', `cannot read config file ${file} (GRM_CONFIG): ${(e as Error).message}`, {
      field: 'GRM_CONFIG',
    });
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new GrmError('E_CONFIG_INVALID', `config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GrmError('E_CONFIG_INVALID', `config file ${file} must hold an object of settings`);
  }
  return parsed as Record<string, unknown>;
}

function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const { env: name, key, kind } of ENV_OVERRIDES) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    let value: unknown = text;
    if (kind === 'integer') {
      if (!/^-?\d+$/.test(text.trim())) {
        throw new GrmError('E_CONFIG_INVALID', `invalid configuration: ${name}=${JSON.stringify(text)} must be an integer`, {
          field: name,
        });
      }
      value = Number(text.trim());
    }
    setPath(raw, key, value);
  }
}

function setPath(target: Record<string, unknown>, key: string[], value: unknown): void {
  let node = target;
  for (const part of key.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[key[key.length - 1]!] = value;
}

function deepAssign(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) {
      deepAssign(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      target[k] = v;
    }
  }
}

function keyOf(error: ValueError): string {
  return error.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
}

/** Unions report one error per branch; keep the first per key so messages stay readable. */
function dedupeByPath(errors: ValueError[]): ValueError[] {
  const seen = new Map<string, ValueError>();
  for (const e of errors) if (!seen.has(e.path)) seen.set(e.path, e);
  return [...seen.values()];
}

function describeError(error: ValueError): string {
  const key = keyOf(error);
  const given = error.value === undefined ? 'nothing' : JSON.stringify(error.value);
  const schema = error.schema as Record<string, unknown>;
  let allowed = error.message;
  if (Array.isArray(schema.anyOf)) {
    const literals = (schema.anyOf as Record<string, unknown>[]).map((s) => s.const).filter((c) => c !== undefined);
    if (literals.length > 0) allowed = `must be one of ${literals.map((l) => JSON.stringify(l)).join(', ')}`;
  } else if (error.message.startsWith('Unexpected property')) {
    allowed = 'is not a known setting';
  } else {
    const bounds: string[] = [];
    if (schema.minimum !== undefined) bounds.push(`>= ${schema.minimum}`);
    if (schema.maximum !== undefined) bounds.push(`<= ${schema.maximum}`);
    if (bounds.length > 0 && (schema.type === 'integer' || schema.type === 'number')) {
      allowed = `must be ${schema.type === 'integer' ? 'an integer' : 'a number'} ${bounds.join(' and ')}`;
    }
  }
  return `${key}: ${allowed} (got ${given})`;
}

/**
 * The data dir a daemon started here would use (GRM_DATA_DIR, else the config file's dataDir,
 * else the default), without validating the rest: the CLI finds the first admin's token there.
 */
export function configuredDataDir(env: NodeJS.ProcessEnv, cwd: string): string {
  const fromFile = env.GRM_DATA_DIR ? undefined : readConfigFile(env, cwd).dataDir;
  const dir = env.GRM_DATA_DIR || (typeof fromFile === 'string' && fromFile !== '' ? fromFile : ConfigSchema.properties.dataDir.default);
  return path.resolve(cwd, dir);
}

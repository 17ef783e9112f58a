/**
 * The queue policy's figures: each pending job's priority factors (GET /priority, sprio) and
 * the fair-share tree (GET /shares, sshare). A user sees their own jobs and their own rows;
 * an admin sees everything. GET/PATCH /policy/limits: the limits in force, and an admin's
 * change to them (sacctmgr modify), held at once and after a restart.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';
import { GrmError } from '../../errors.js';
import type { LimitTarget } from '../../jobs/limit-targets.js';
import { requireAdmin } from '../../users/user-rules.js';
import { requestPrincipal } from '../user.js';

const SprioSchema = Type.Object({
  job_id: Type.Integer(),
  partition: Type.String(),
  user: Type.String(),
  priority: Type.Integer(),
  age: Type.Number(),
  fairshare: Type.Number(),
  job_size: Type.Number(),
  partition_factor: Type.Number(),
  qos: Type.Number(),
  nice: Type.Integer(),
});

const ShareSchema = Type.Object({
  account: Type.String(),
  /** '' on an account's row */
  user: Type.String(),
  /** 1 for accounts under root: sshare indents by it */
  depth: Type.Integer(),
  raw_shares: Type.Number(),
  norm_shares: Type.Number(),
  /** decayed CPU-seconds */
  raw_usage: Type.Number(),
  norm_usage: Type.Number(),
  effectv_usage: Type.Number(),
  fairshare: Type.Number(),
});

export const policyRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.get(
    '/priority',
    {
      schema: {
        summary: "Pending jobs' multifactor priority and its weighted factors (sprio), by job id, paged",
        querystring: Type.Object({
          after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'only jobs with a greater id' }),
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
          normalized: Type.Boolean({ default: false, description: 'the factors in [0, 1] before weighting (sprio -n)' }),
        }),
        response: {
          200: Type.Object({ jobs: Type.Array(SprioSchema), last_id: Type.Integer(), more: Type.Boolean() }),
          '4xx': ErrorSchema,
        },
      },
    },
    async (request) => {
      const me = requestPrincipal(request);
      const { after, limit, normalized } = request.query;
      const page = services.policy.sprio({ after, limit, normalised: normalized, ...(me.role === 'admin' ? {} : { user: me.name }) });
      return {
        jobs: page.rows.map((r) => ({
          job_id: r.jobId,
          partition: r.partition,
          user: r.user,
          priority: r.priority,
          age: r.age,
          fairshare: r.fairshare,
          job_size: r.jobSize,
          partition_factor: r.partitionFactor,
          qos: r.qos,
          nice: r.nice,
        })),
        last_id: page.rows.at(-1)?.jobId ?? after,
        more: page.more,
      };
    },
  );

  app.get(
    '/shares',
    {
      schema: {
        summary: 'The fair-share tree (sshare): shares, decayed usage and fair-share factor of every account and user',
        response: { 200: Type.Object({ shares: Type.Array(ShareSchema) }), '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const me = requestPrincipal(request);
      const rows = services.policy.sshare().filter((r) => me.role === 'admin' || r.kind === 'account' || r.user === me.name);
      return {
        shares: rows.map((r) => ({
          account: r.account,
          user: r.user,
          depth: r.depth,
          raw_shares: r.rawShares,
          norm_shares: r.normShares,
          raw_usage: r.rawUsage,
          norm_usage: r.normUsage,
          effectv_usage: r.effectvUsage,
          fairshare: r.fairShare,
        })),
      };
    },
  );

  const LimitsEntry = Type.Object({
    kind: Type.Union([Type.Literal('account'), Type.Literal('user'), Type.Literal('qos')]),
    /** an account, "account/user", or a QOS */
    name: Type.String(),
    limits: Type.Record(Type.String(), Type.Integer()),
  });

  app.get(
    '/policy/limits',
    { schema: { summary: 'Every limit in force, of accounts, user associations and QOSes (sacctmgr show assoc, show qos)', response: { 200: Type.Object({ limits: Type.Array(LimitsEntry) }), '4xx': ErrorSchema } } },
    async () => ({ limits: services.policy.limitsInForce() }),
  );

  app.patch(
    '/policy/limits',
    {
      config: { audit: 'policy.limits' },
      schema: {
        summary: "Change the limits of an account, a user (in an account) or a QOS now, without a restart (admin; sacctmgr modify ... set)",
        body: Type.Object(
          {
            account: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            user: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            qos: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            /** limit name (maxJobs, grpNodes, maxJobsPerUser, maxWallMinutes...) -> value; null clears it */
            set: Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.Integer(), Type.Null()]), { maxProperties: 32 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: LimitsEntry, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      requireAdmin(requestPrincipal(request), 'PATCH /api/v1/policy/limits');
      const { account, user, qos, set } = request.body;
      const target = limitTarget(account, user, qos);
      const limits = services.policy.modifyLimits(target, set);
      const name = target.kind === 'user' ? `${account ?? services.policy.defaultAccountOf(target.name)}/${target.name}` : target.name;
      return { kind: target.kind, name, limits };
    },
  );
};

/** Exactly one scope: a QOS, an account, or a user (with, optionally, the account of the association). */
function limitTarget(account: string | undefined, user: string | undefined, qos: string | undefined): LimitTarget {
  if (qos !== undefined && account === undefined && user === undefined) return { kind: 'qos', name: qos };
  if (user !== undefined && qos === undefined) return { kind: 'user', name: user, account };
  if (account !== undefined && qos === undefined) return { kind: 'account', name: account };
  throw new GrmError('E_REQUEST_INVALID', 'Name what to change: qos alone, account alone, or user (with account for one of its associations)', { field: 'user' });
}

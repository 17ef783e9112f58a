/**
 * /api/v1/users (admin only): users, their tokens, and the audit log; /api/v1/whoami (anyone
 * with a token). Every change here is an audit row (route config.audit), refusals included.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { GrmError } from '../../errors.js';
import { requireAdmin } from '../../users/user-rules.js';
import { setAuditTarget } from '../auth.js';
import { ErrorSchema } from '../schemas.js';
import type { ApiServices } from '../services.js';
import { requestPrincipal } from '../user.js';
import {
  AuditEventSchema,
  IssuedTokenSchema,
  RunAsSchema,
  TokenSchema,
  UserNameParams,
  UserSchema,
  WhoamiSchema,
  presentAuditEvent,
  presentIssued,
  presentToken,
  presentUser,
  presentWhoami,
} from '../user-schemas.js';

const Expires = Type.String({ minLength: 1, maxLength: 16, description: 'lifetime: 90m, 12h, 30d, 2w or never; default auth.tokenLifetimeDays' });

export const whoamiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/whoami',
    { schema: { summary: 'The user the request\'s token stands for (squeue --me, sacct)', tags: ['users'], response: { 200: WhoamiSchema } } },
    async (request) => presentWhoami(requestPrincipal(request)),
  );
};

/** Users, tokens, audit: every route an administrator's (the hook applies to the plugins inside). */
export const userRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  app.addHook('preHandler', async (request) => requireAdmin(requestPrincipal(request), `${request.method} ${request.routeOptions.url}`));
  await app.register(accountRoutes, { services });
  await app.register(tokenRoutes, { services });
  await app.register(auditRoutes, { services });
};

const tags = ['users'];

const accountRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  const { users } = services;

  app.get('/users', { schema: { summary: 'Every user (grm user list)', tags, response: { 200: Type.Object({ users: Type.Array(UserSchema) }), '4xx': ErrorSchema } } }, async () => ({
    users: users.list().map((u) => presentUser(u)),
  }));

  app.post(
    '/users',
    {
      config: { audit: 'user.add' },
      schema: {
        summary: 'Add a user (grm user add); with token: true, also their first token, shown once',
        tags,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64 }),
            role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
            accounts: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 256, description: 'the first is the default' })),
            run_as: Type.Optional(Type.Union([RunAsSchema, Type.Null()])),
            token: Type.Optional(Type.Boolean()),
            expires: Type.Optional(Expires),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ user: UserSchema, token: Type.Union([IssuedTokenSchema, Type.Null()]) }), '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      setAuditTarget(request, `user ${b.name} role ${b.role}`);
      const { user, token } = users.add(requestPrincipal(request).name, {
        name: b.name,
        role: b.role,
        ...(b.accounts ? { accounts: b.accounts } : {}),
        ...(b.run_as ? { runAs: { ...b.run_as, groups: b.run_as.groups ?? [] } } : {}),
        ...(b.token ? { token: true } : {}),
        ...(b.expires !== undefined ? { expires: b.expires } : {}),
      });
      if (token) setAuditTarget(request, `user ${user.name} role ${user.role} token ${token.id}`);
      return reply.status(201).send({ user: presentUser(user), token: token ? presentIssued(token) : null });
    },
  );

  app.get(
    '/users/:name',
    { schema: { summary: 'One user with their tokens (never the tokens themselves)', tags, params: UserNameParams, response: { 200: UserSchema, '4xx': ErrorSchema } } },
    async (request) => presentUser(users.get(request.params.name), users.tokens(request.params.name), users.now()),
  );

  app.patch(
    '/users/:name',
    {
      config: { audit: 'user.modify' },
      schema: {
        summary: 'Change a user: enabled (grm user disable/enable), role, accounts, run_as (null: unmapped)',
        tags,
        params: UserNameParams,
        body: Type.Object(
          {
            enabled: Type.Optional(Type.Boolean()),
            role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
            accounts: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 256 })),
            run_as: Type.Optional(Type.Union([RunAsSchema, Type.Null()])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserSchema, '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const b = request.body;
      if (request.audit && Object.keys(b).length === 1 && b.enabled !== undefined) request.audit.action = b.enabled ? 'user.enable' : 'user.disable';
      else setAuditTarget(request, `user ${request.params.name} ${JSON.stringify(b)}`);
      return presentUser(
        users.update(request.params.name, {
          ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
          ...(b.role !== undefined ? { role: b.role } : {}),
          ...(b.accounts !== undefined ? { accounts: b.accounts } : {}),
          ...(b.run_as !== undefined ? { runAs: b.run_as && { ...b.run_as, groups: b.run_as.groups ?? [] } } : {}),
        }),
      );
    },
  );

};

const tokenRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  const { users } = services;
  app.get(
    '/users/:name/tokens',
    { schema: { summary: "A user's tokens: id, state, times (never the tokens themselves)", tags, params: UserNameParams, response: { 200: Type.Object({ tokens: Type.Array(TokenSchema) }), '4xx': ErrorSchema } } },
    async (request) => ({ tokens: users.tokens(request.params.name).map((t) => presentToken(t, users.now())) }),
  );

  app.post(
    '/users/:name/tokens',
    {
      config: { audit: 'token.issue' },
      schema: {
        summary: 'Issue a new token for a user (grm user token NAME), shown once',
        tags,
        params: UserNameParams,
        body: Type.Optional(Type.Object({ expires: Type.Optional(Expires) }, { additionalProperties: false })),
        response: { 201: IssuedTokenSchema, '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const issued = users.issueToken(request.params.name, request.body?.expires);
      setAuditTarget(request, `user ${request.params.name} token ${issued.id}`);
      return reply.status(201).send(presentIssued(issued));
    },
  );

  const revoked = { 200: Type.Object({ revoked: Type.Array(TokenSchema) }), '4xx': ErrorSchema };
  app.delete(
    '/users/:name/tokens/:id',
    {
      config: { audit: 'token.revoke' },
      schema: { summary: 'Revoke one token of a user', tags, params: Type.Object({ name: UserNameParams.properties.name, id: Type.Integer({ minimum: 1 }) }), response: revoked },
    },
    async (request) => ({ revoked: users.revoke(request.params.name, request.params.id).map((t) => presentToken(t, users.now())) }),
  );

  app.delete(
    '/users/:name/tokens',
    { config: { audit: 'token.revoke' }, schema: { summary: 'Revoke every token of a user', tags, params: UserNameParams, response: revoked } },
    async (request) => {
      setAuditTarget(request, `user ${request.params.name} every token`);
      return { revoked: users.revoke(request.params.name, null).map((t) => presentToken(t, users.now())) };
    },
  );

};

const auditRoutes: FastifyPluginAsyncTypebox<{ services: ApiServices }> = async (app, { services }) => {
  const { users } = services;
  app.get(
    '/audit',
    {
      schema: {
        summary: 'The audit log, newest first: authentication failures (coalesced) and admin actions',
        tags,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
          cursor: Type.Optional(Type.String({ maxLength: 32, description: 'next_cursor of the previous page' })),
          actor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
        response: { 200: Type.Object({ events: Type.Array(AuditEventSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), '4xx': ErrorSchema },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.cursor !== undefined && !/^\d{1,15}$/.test(q.cursor)) {
        throw new GrmError('E_REQUEST_INVALID', `invalid cursor ${JSON.stringify(q.cursor)}: pass the next_cursor of the previous page`, { field: 'cursor' });
      }
      const rows = users.audit.page({
        limit: q.limit + 1, // one more than asked tells whether a next page exists
        ...(q.cursor !== undefined ? { beforeId: Number(q.cursor) } : {}),
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
      });
      const page = rows.slice(0, q.limit);
      return { events: page.map(presentAuditEvent), next_cursor: rows.length > q.limit ? String(page[page.length - 1]!.id) : null };
    },
  );
};

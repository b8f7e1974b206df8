import type { Agent, SampleOrg } from './org.js';
import type { Random } from './random.js';

/** What one sampled request looks like on the wire, before it is dressed as an Elasticsearch hit. */
export interface SampledRequest {
  method: string;
  path: string;
  query?: string;
  body?: unknown;
  response?: unknown;
  status: number;
  /** The acting user; absent for unauthenticated requests. */
  user?: Agent;
  ip: string;
}

export interface RequestContext {
  r: Random;
  org: SampleOrg;
  actor: Agent;
  target: Agent;
  failure: boolean;
}

type Template = {
  weight: number;
  make: (c: RequestContext) => Omit<SampledRequest, 'ip' | 'user' | 'status'> & { status?: number };
};

const id = (c: RequestContext) => c.r.uuid();
const secret = (c: RequestContext, n = 32) => c.r.token(n);
const jwt = (c: RequestContext) => `eyJhbGciOiJIUzI1NiJ9.${c.r.token(60)}.${c.r.token(43)}`;
const org = (c: RequestContext) => `/api/orgs/${c.org.orgId}`;
const agent = (c: RequestContext) => `/api/users/agents/${c.target.id}`;
const bot = (c: RequestContext) => `/api/bots/${c.r.pick(c.org.botIds)}`;

function crud(base: (c: RequestContext) => string, body: (c: RequestContext) => unknown, weights: number[]) {
  const [create = 0, change = 0, remove = 0] = weights;
  return {
    creation: {
      weight: create,
      make: (c: RequestContext) => ({
        method: 'POST',
        path: base(c),
        body: body(c),
        response: { id: id(c) },
        status: 201,
      }),
    },
    change: {
      weight: change,
      make: (c: RequestContext) => ({
        method: 'PUT',
        path: `${base(c)}/${id(c)}`,
        body: body(c),
        status: 204,
      }),
    },
    deletion: {
      weight: remove,
      make: (c: RequestContext) => ({ method: 'DELETE', path: `${base(c)}/${id(c)}`, status: 204 }),
    },
  };
}

const longText = (c: RequestContext) =>
  Array.from({ length: 40 }, () =>
    c.r.pick(['Hello!', 'Need help?', 'Our team', 'is online', 'today.']),
  ).join(' ');

const unavailability = crud(
  (c) => `${org(c)}/unavailability-reasons`,
  (c) => ({ name: c.r.pick(['Lunch', 'Meeting', 'Training']) }),
  [2, 1, 0.5],
);
const eventAction = crud(
  (c) => `${bot(c)}/event-actions`,
  (c) => ({ event: c.r.pick(['WELCOME', 'OFFLINE']), message: 'Hi there' }),
  [1, 1.5, 0.5],
);
const intent = crud(
  () => '/api/ai-suggestions/intents',
  (c) => ({ name: `intent_${c.r.int(90)}`, examples: ['where is my order'] }),
  [0.8, 1.2, 0.4],
);
const dataset = crud(
  () => '/api/ai-suggestions/datasets',
  (c) => ({ name: `dataset_${c.r.int(9)}`, language: 'en' }),
  [0.4, 0.6, 0.2],
);
const forms = crud(
  () => '/api/widget/forms',
  (c) => ({ fields: [{ name: 'email', required: c.r.chance(0.5) }] }),
  [0.4, 0.8, 0.2],
);
const oauth = crud(
  () => '/api/oauth/configs',
  (c) => ({
    clientId: `client-${c.r.token(8)}`,
    clientSecret: secret(c, 40),
    tokenUrl: 'https://sso.acme.example/oauth/token',
  }),
  [0.1, 0.3, 0.05],
);
// Closer truncates long bodies in its logs; the sample does too, mid-JSON.
const proactive = crud(
  () => '/api/proactive-messages',
  (c) => JSON.stringify({ message: longText(c), delaySeconds: 30 }).slice(0, 180),
  [0.5, 1, 0.3],
);
const profanities = crud(
  () => '/api/profanities',
  (c) => ({ words: ['darn', `w${c.r.int(99)}`] }),
  [0.2, 0.4, 0],
);
const tags = crud(
  () => '/api/tag-mappings',
  (c) => ({ urlPattern: `/pricing/${c.r.int(9)}`, tag: 'pricing' }),
  [0.4, 0.6, 0.2],
);
const topics = crud(
  (c) => `${org(c)}/topics`,
  (c) => ({ name: c.r.pick(['Billing', 'Returns', 'Shipping']) }),
  [0.6, 0.8, 0.3],
);

export const TEMPLATES: Record<string, Template> = {
  agent_login: {
    weight: 22,
    make: (c) => ({
      method: 'POST',
      path: '/api/auth/login',
      body: { email: c.actor.email, password: secret(c, 14) },
      response: c.failure ? { error: 'Invalid credentials' } : { token: jwt(c), refreshToken: secret(c, 48) },
      status: c.failure ? 401 : 200,
    }),
  },
  agent_login_with_magic_link: {
    weight: 6,
    make: (c) =>
      c.r.chance(0.5)
        ? {
            method: 'GET',
            path: `/api/auth/magic-link/${secret(c, 40)}`,
            response: { token: jwt(c) },
            status: c.failure ? 410 : 200,
          }
        : {
            method: 'POST',
            path: '/api/auth/magic-link',
            query: `token=${secret(c, 40)}&redirect=%2Finbox`,
            status: c.failure ? 410 : 200,
          },
  },
  agent_logout: { weight: 14, make: () => ({ method: 'POST', path: '/api/auth/logout', status: 204 }) },
  agent_password_change: {
    weight: 1.5,
    make: (c) => ({
      method: 'PUT',
      path: `${agent(c)}/password`,
      body: { oldPassword: secret(c, 12), newPassword: secret(c, 16) },
      status: c.failure ? 400 : 204,
    }),
  },
  agent_password_change_with_token: {
    weight: 1,
    make: (c) => ({
      method: 'POST',
      path: '/api/auth/password',
      query: `token=${secret(c, 36)}`,
      body: `password=${secret(c, 14)}&confirm=${secret(c, 14)}`,
      status: c.failure ? 410 : 204,
    }),
  },
  agent_password_reset: {
    weight: 1.5,
    make: (c) => ({
      method: 'POST',
      path: '/api/auth/password-reset',
      body: { email: c.target.email },
      status: 202,
    }),
  },
  agent_profile_change: {
    weight: 4,
    make: (c) => ({
      method: 'PUT',
      path: `${agent(c)}/profile`,
      body: { name: c.target.name, phone: '+48 600 000 000' },
      status: 204,
    }),
  },
  agent_deactivation: {
    weight: 0.4,
    make: (c) => ({ method: 'POST', path: `${agent(c)}/deactivate`, status: 204 }),
  },
  agent_restore: {
    weight: 0.15,
    make: (c) => ({ method: 'POST', path: `${agent(c)}/restore`, status: 204 }),
  },
  agent_skills_change: {
    weight: 4,
    make: (c) => ({
      method: 'PUT',
      path: `${agent(c)}/skills`,
      body: { skills: [c.r.pick(['billing', 'returns', 'vip', 'skill'])] },
      status: 204,
    }),
  },
  agent_preferences_change: {
    weight: 8,
    make: (c) => ({
      method: 'PUT',
      path: `${agent(c)}/preferences`,
      body: { notifications: { sound: c.r.chance(0.5) }, inboxSorting: c.r.pick(['NEWEST', 'OLDEST']) },
      status: 204,
    }),
  },
  agent_limit_change: {
    weight: 0.1,
    make: (c) => ({
      method: 'PUT',
      path: `${agent(c)}/limit`,
      body: { limit: 1 + c.r.int(10) },
      status: 204,
    }),
  },
  agent_role_change: {
    weight: 0.5,
    make: (c) => ({
      method: 'PUT',
      path: `${agent(c)}/role`,
      body: { role: c.r.chance(0.5) ? 'ADMIN' : 'AGENT' },
      status: c.failure ? 403 : 204,
    }),
  },
  agent_invitation: {
    weight: 1,
    make: (c) => ({
      method: 'POST',
      path: '/api/users/agents/invitations',
      body: { email: `new${c.r.int(999)}@acme.example`, role: 'AGENT' },
      response: { invitationToken: secret(c, 32) },
      status: 201,
    }),
  },
  agent_invitation_acceptation: {
    weight: 0.8,
    make: (c) => ({
      method: 'POST',
      path: `/api/users/agents/invitations/${secret(c, 32)}/accept`,
      body: { name: c.target.name, password: secret(c, 14) },
      status: 201,
    }),
  },
  agent_avatar_creation: {
    weight: 1,
    make: (c) => ({
      method: 'POST',
      path: `${agent(c)}/avatar`,
      body: '<binary image, 48213 bytes>',
      status: 201,
    }),
  },
  agent_avatar_deletion: {
    weight: 0.3,
    make: (c) => ({ method: 'DELETE', path: `${agent(c)}/avatar`, status: 204 }),
  },
  unavailability_reason_creation: unavailability.creation,
  unavailability_reason_change: unavailability.change,
  unavailability_reason_deletion: unavailability.deletion,
  org_config_change: {
    weight: 2,
    make: (c) => ({
      method: 'PUT',
      path: `${org(c)}/config`,
      body: { timezone: 'Europe/Warsaw', workingHours: { from: '08:00', to: c.r.pick(['16:00', '18:00']) } },
      status: 204,
    }),
  },
  free_org_creation: {
    weight: 0.05,
    make: (c) => ({
      method: 'POST',
      path: '/api/orgs/free',
      body: { name: 'Acme', email: c.actor.email, password: secret(c, 14) },
      response: { id: id(c) },
      status: 201,
    }),
  },
  stripe_org_creation: {
    weight: 0.05,
    make: (c) => ({
      method: 'POST',
      path: '/api/orgs/stripe',
      body: { name: 'Acme', plan: 'PRO', paymentToken: `tok_${secret(c, 24)}`, email: c.actor.email },
      response: { id: id(c) },
      status: 201,
    }),
  },
  widget_logo_creation: {
    weight: 0.3,
    make: (c) => ({
      method: 'POST',
      path: `${org(c)}/widget/logo`,
      body: '<binary image, 9120 bytes>',
      status: 201,
    }),
  },
  widget_logo_deletion: {
    weight: 0.1,
    make: (c) => ({ method: 'DELETE', path: `${org(c)}/widget/logo`, status: 204 }),
  },
  widget_background_creation: {
    weight: 0.3,
    make: (c) => ({
      method: 'POST',
      path: `${org(c)}/widget/background`,
      body: '<binary image, 120332 bytes>',
      status: 201,
    }),
  },
  widget_background_deletion: {
    weight: 0.1,
    make: (c) => ({ method: 'DELETE', path: `${org(c)}/widget/background`, status: 204 }),
  },
  bot_type_change: {
    weight: 0.2,
    make: (c) => ({
      method: 'PUT',
      path: `${bot(c)}/type`,
      body: { type: c.r.pick(['LEKTA', 'NONE']) },
      status: 204,
    }),
  },
  lekta_config_creation: {
    weight: 0.1,
    make: (c) => ({
      method: 'POST',
      path: `${bot(c)}/lekta`,
      body: { url: 'https://lekta.example/api', apiKey: secret(c, 32) },
      status: 201,
    }),
  },
  lekta_config_change: {
    weight: 0.3,
    make: (c) => ({
      method: 'PUT',
      path: `${bot(c)}/lekta`,
      body: { url: 'https://lekta.example/api', apiKey: secret(c, 32), timeoutMs: 3000 },
      status: 204,
    }),
  },
  event_action_config_creation: eventAction.creation,
  event_action_config_change: eventAction.change,
  event_action_config_deletion: eventAction.deletion,
  ai_suggestions_config_change: {
    weight: 1,
    make: (c) => ({
      method: 'PUT',
      path: '/api/ai-suggestions/config',
      body: { enabled: c.r.chance(0.8), threshold: 0.7 },
      status: 204,
    }),
  },
  ai_suggestions_intent_creation: intent.creation,
  ai_suggestions_intent_change: intent.change,
  ai_suggestions_intent_deletion: intent.deletion,
  ai_suggestions_dataset_creation: dataset.creation,
  ai_suggestions_dataset_change: dataset.change,
  ai_suggestions_dataset_deletion: dataset.deletion,
  widget_form_config_creation: forms.creation,
  widget_form_config_change: forms.change,
  widget_form_config_deletion: forms.deletion,
  oauth_authorization: {
    weight: 6,
    make: (c) => ({
      method: 'POST',
      path: '/api/oauth/authorize',
      query: `client_id=widget&code=${secret(c, 20)}&state=${c.r.token(8)}`,
      response: { access_token: secret(c, 40) },
      status: c.failure ? 400 : 200,
    }),
  },
  oauth_config_creation: oauth.creation,
  oauth_config_change: oauth.change,
  oauth_config_deletion: oauth.deletion,
  proactive_messages_config_creation: proactive.creation,
  proactive_messages_config_change: proactive.change,
  proactive_messages_config_deletion: proactive.deletion,
  profanities_config_creation: profanities.creation,
  profanities_config_change: profanities.change,
  tag_mapping_config_creation: tags.creation,
  tag_mapping_config_change: tags.change,
  tag_mapping_config_deletion: tags.deletion,
  org_topic_creation: topics.creation,
  org_topic_change: topics.change,
  org_topic_deletion: topics.deletion,
};

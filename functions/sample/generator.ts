import { BUILTIN_RULES } from '../../shared/detections/builtin.js';
import { ACTIONS, lookupAction } from '../../shared/catalog/actions.js';
import { DAY_MS, HOUR_MS } from '../../shared/event/partition.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { sampleOrg, type Agent, type SampleOrg } from './org.js';
import { Random } from './random.js';
import { TEMPLATES, type SampledRequest } from './requests.js';

/**
 * The sample feed: realistic Closer audit hits, a pure function of (seed, hour). The same hour
 * always yields the same hits, so a sample source behaves like a real index on reruns, and the
 * test Elasticsearch is loaded with exactly what the CLI sample command writes.
 */
export interface SampleFeedOptions {
  seed?: string;
  index?: string;
  /** Brute-force bursts from hostile IPs now and then (default on); off for a benign feed. */
  bursts?: boolean;
}

export const DEFAULT_SEED = 'closer-audit-sample';

const WEIGHTS = ACTIONS.map((a) => {
  const template = TEMPLATES[a.action];
  if (!template) throw new Error(`sample feed has no template for ${a.action}`);
  return { value: a.action, weight: template.weight };
});
const TOTAL_WEIGHT = WEIGHTS.reduce((s, w) => s + w.weight, 0);

// Share of requests whose action fails, per action (the rest succeed).
const FAILURE_RATE: Record<string, number> = {
  agent_login: 0.08,
  agent_login_with_magic_link: 0.05,
  agent_password_change: 0.04,
  agent_password_change_with_token: 0.1,
  agent_role_change: 0.05,
  oauth_authorization: 0.03,
};

const orgs = new Map<string, SampleOrg>();
function orgFor(seed: string): SampleOrg {
  let org = orgs.get(seed);
  if (!org) orgs.set(seed, (org = sampleOrg(seed)));
  return org;
}

/** Relative activity of an hour: office hours busy, nights and weekends quiet. */
export function hourWeight(hourStart: number): number {
  const d = new Date(hourStart);
  const h = d.getUTCHours();
  const day = d.getUTCDay();
  const office = h >= 7 && h < 17 ? 3 : h >= 5 && h < 20 ? 1.2 : 0.25;
  return office * (day === 0 || day === 6 ? 0.3 : 1);
}

/** Splits `total` events over the hours of [from, to) by hourWeight, exactly (largest remainder). */
export function distribute(total: number, from: number, to: number): Map<number, number> {
  const hours: number[] = [];
  for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h < to; h += HOUR_MS) hours.push(h);
  const weights = hours.map(hourWeight);
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((s, c) => s + c, 0);
  const order = exact
    .map((e, i) => ({ i, frac: e - Math.floor(e) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left-- <= 0) break;
    counts[i] = (counts[i] as number) + 1;
  }
  return new Map(hours.map((h, i) => [h, counts[i] as number]));
}

/** The sample source's own volume when no total is asked for: about 1,000 events a working day. */
export function defaultHourlyCount(hourStart: number, seed = DEFAULT_SEED): number {
  const r = new Random(seed, 'volume', hourStart);
  return Math.round(hourWeight(hourStart) * (18 + r.int(12)));
}

export function generateHour(hourStart: number, count: number, options: SampleFeedOptions = {}): RawHit[] {
  const seed = options.seed ?? DEFAULT_SEED;
  const index = options.index ?? 'closer';
  const org = orgFor(seed);
  const r = new Random(seed, 'hour', hourStart);
  const offsets = Array.from({ length: count }, () => r.int(HOUR_MS)).sort((a, b) => a - b);
  // A brute-force burst now and then: failed logins from one hostile IP.
  const burstIp = r.chance(0.04) && options.bursts !== false ? r.pick(org.hostileIps) : null;
  // Spread over the hour's events, the actions this hour is scheduled to carry.
  const scheduled = scheduledActions(seed, hourStart);
  const at = new Map(scheduled.map((a, j) => [Math.floor((j * count) / scheduled.length), a]));
  return offsets.map((offset, i) => {
    const drawn = burstIp && r.chance(0.5) ? 'agent_login' : r.weighted(WEIGHTS, TOTAL_WEIGHT);
    return hitFor(r, org, index, hourStart + offset, at.get(i) ?? drawn, i, burstIp);
  });
}

/**
 * Rare actions (an OAuth client deleted, a profanity list changed) would often not occur at all
 * in a week drawn by weight alone. Every action is therefore scheduled once a day, at an office
 * hour of its own, so any 7 days of the feed hold all of the catalog's actions.
 */
const FIRST_OFFICE_HOUR = 8;
const OFFICE_HOURS = 9;
const schedules = new Map<string, Map<number, string[]>>();
export function scheduledActions(seed: string, hourStart: number): string[] {
  const day = Math.floor(hourStart / DAY_MS) * DAY_MS;
  const key = `${seed}|${day}`;
  let byHour = schedules.get(key);
  if (!byHour) {
    byHour = new Map();
    const r = new Random(seed, 'schedule', day);
    for (const { action } of ACTIONS) {
      const hour = day + (FIRST_OFFICE_HOUR + r.int(OFFICE_HOURS)) * HOUR_MS;
      byHour.set(hour, [...(byHour.get(hour) ?? []), action]);
    }
    if (schedules.size > 64) schedules.clear();
    schedules.set(key, byHour);
  }
  return byHour.get(hourStart) ?? [];
}

function hitFor(
  r: Random,
  org: SampleOrg,
  index: string,
  ts: number,
  action: string,
  seq: number,
  burstIp: string | null,
): RawHit {
  const actor = pickActor(r, org, action);
  const target = action.startsWith('agent_') && r.chance(0.3) ? r.pick(org.agents) : actor;
  const hostile = action === 'agent_login' && burstIp !== null && r.chance(0.7);
  const failure = hostile || r.chance(FAILURE_RATE[action] ?? 0.01);
  const template = TEMPLATES[action] as (typeof TEMPLATES)[string];
  const made = template.make({ r, org, actor, target, failure });
  const status = failure
    ? made.status && made.status >= 400
      ? made.status
      : r.pick([400, 403, 409])
    : (made.status ?? 200);
  const unauthenticated =
    action === 'agent_login' || action === 'agent_password_reset' || action === 'oauth_authorization';
  const req: SampledRequest = {
    ...made,
    status,
    user: unauthenticated && failure ? undefined : action === 'oauth_authorization' ? undefined : actor,
    ip: hostile
      ? (burstIp as string)
      : action === 'oauth_authorization'
        ? r.pick(org.customerIps)
        : r.pick(actor.ips),
  };
  return toHit(r, index, ts, action, seq, req);
}

function pickActor(r: Random, org: SampleOrg, action: string): Agent {
  const info = lookupAction(action);
  const adminOnly = info && info.category !== 'authentication' && !action.startsWith('agent_') ? 0.9 : 0.15;
  const admins = org.agents.filter((a) => a.admin);
  return r.chance(adminOnly) ? r.pick(admins) : r.pick(org.agents);
}

const ECS_TYPES: Record<string, string[]> = {
  creation: ['creation'],
  change: ['change'],
  deletion: ['deletion'],
  login: ['start'],
  logout: ['end'],
  password_reset: ['change'],
  deactivation: ['deletion', 'user'],
  restore: ['creation', 'user'],
  invitation: ['creation', 'user'],
  acceptance: ['creation', 'user'],
  authorization: ['start'],
};

function toHit(
  r: Random,
  index: string,
  ts: number,
  action: string,
  seq: number,
  req: SampledRequest,
): RawHit {
  const info = lookupAction(action);
  const types = [...(ECS_TYPES[info?.verb ?? 'change'] ?? ['change'])];
  if (info?.area === 'agent' && !types.includes('user')) types.push('user');
  const fields: Record<string, unknown> = {
    'event.kind': ['event'],
    'event.category': [info?.category ?? 'configuration'],
    'event.type': types,
    'event.action': action,
    'event.outcome': req.status < 400 ? 'success' : 'failure',
    'http.request.method': req.method,
    'http.response.status_code': req.status,
    'source.ip': javaInetString(r, req.ip),
    'url.full': `https://${'acme.closer.app'}${req.path}${req.query ? `?${req.query}` : ''}`,
    'ecs.version': '1.9',
  };
  if (req.body !== undefined) {
    fields['http.request.body.content'] = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  }
  if (req.response !== undefined) fields['http.response.body.content'] = JSON.stringify(req.response);
  if (req.user) {
    fields['user.id'] = req.user.id;
    fields['user.roles'] = [req.user.admin ? 'ADMIN' : 'AGENT'];
  }
  // Real feeds are not uniform: a few documents use other spellings Elasticsearch treats alike.
  const variant = r.next();
  if (variant < 0.03) fields['http.response.status_code'] = String(req.status);
  else if (variant < 0.05) fields['event.kind'] = 'event';
  return {
    _index: index,
    _id: r.token(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') + seq.toString(36),
    _source: {
      '@timestamp': javaTimestamp(ts),
      message: r.chance(0.05) ? nest(fields) : fields,
    },
  };
}

/** `2021-05-05T09:27:12.529+0000`, as Closer's logger prints it. */
function javaTimestamp(ts: number): string {
  return new Date(ts).toISOString().replace('Z', '+0000');
}

/** `InetAddress.toString()`: `/1.2.3.4`, sometimes with the host name, IPv6 uncompressed. */
function javaInetString(r: Random, ip: string): string {
  const host = r.chance(0.05) ? 'proxy.acme.example' : '';
  if (!ip.includes(':')) return `${host}/${ip}`;
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
    : ip.split(':');
  return `${host}/${groups.map((g) => parseInt(g, 16).toString(16)).join(':')}`;
}

/** The same fields as nested objects, the other form Elasticsearch accepts. */
function nest(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const parts = key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = value;
  }
  return out;
}

/**
 * Labelled attack scenarios, one per built-in detection rule, planted into a feed by
 * `closer-audit sample --attacks`: each is a handful of hits within minutes, with ids
 * `attack-<scenario>-<n>` so a test (or a demo) can tell them from the benign feed around them.
 */
export const ATTACK_SCENARIOS = BUILTIN_RULES;
export type AttackScenario = (typeof ATTACK_SCENARIOS)[number];

/** Addresses no sample agent or customer uses (TEST-NET-3), one per scenario. */
const ATTACKER_IP = (i: number) => `203.0.113.${10 + i}`;

export function attackHits(
  scenario: AttackScenario,
  hourStart: number,
  options: SampleFeedOptions = {},
): RawHit[] {
  const seed = options.seed ?? DEFAULT_SEED;
  const index = options.index ?? 'closer';
  const org = orgFor(seed);
  const r = new Random(seed, 'attack', scenario, hourStart);
  const admins = org.agents.filter((a) => a.admin);
  const agents = org.agents.filter((a) => !a.admin);
  const ip = ATTACKER_IP(ATTACK_SCENARIOS.indexOf(scenario));
  const start = hourStart + 20 * 60_000 + r.int(10 * 60_000);
  const hits: RawHit[] = [];
  const add = (
    action: string,
    at: number,
    req: Partial<SampledRequest> & { actor?: Agent; target?: Agent },
  ) => {
    const actor = req.actor ?? (r.pick(admins) as Agent);
    const target = req.target ?? actor;
    const failure = (req.status ?? 200) >= 400;
    const made = (TEMPLATES[action] as (typeof TEMPLATES)[string]).make({ r, org, actor, target, failure });
    const full: SampledRequest = {
      ...made,
      status: req.status ?? made.status ?? 200,
      user: 'user' in req ? req.user : actor,
      ip: req.ip ?? ip,
      ...(req.body !== undefined ? { body: req.body } : {}),
    };
    const hit = toHit(r, index, at, action, hits.length, full);
    hits.push({ ...hit, _id: `attack-${scenario}-${hits.length}` });
  };
  const failedLogin = (at: number, who: Agent, from = ip) =>
    add('agent_login', at, {
      target: who,
      actor: who,
      status: 401,
      user: undefined,
      ip: from,
      body: { email: who.email, password: 'guess' },
    });
  const minute = 60_000;
  switch (scenario) {
    case 'password-brute-force-ip':
      for (let i = 0; i < 25; i++) failedLogin(start + i * 12_000, agents[i % 3] as Agent);
      break;
    case 'password-brute-force-user': {
      const victim = agents[0] as Agent;
      for (let i = 0; i < 12; i++) failedLogin(start + i * 30_000, victim, `198.51.100.${20 + (i % 6)}`);
      break;
    }
    case 'password-spraying':
      for (let i = 0; i < 8; i++) failedLogin(start + i * 70_000, agents[i] as Agent);
      break;
    case 'login-success-after-failures': {
      const victim = agents[1] as Agent;
      for (let i = 0; i < 6; i++) failedLogin(start + i * 40_000, victim);
      add('agent_login', start + 6 * 40_000 + 5_000, { actor: victim, target: victim, status: 200 });
      break;
    }
    case 'role-change-to-admin':
      add('agent_role_change', start, { target: agents[2] as Agent, status: 204, body: { role: 'ADMIN' } });
      break;
    case 'admin-login-new-ip':
      add('agent_login', start, { actor: admins[0] as Agent, status: 200 });
      break;
    case 'agent-deactivation-burst': {
      const admin = admins[1] as Agent;
      for (let i = 0; i < 7; i++)
        add('agent_deactivation', start + i * 30 * 1000, {
          actor: admin,
          target: agents[i + 3] as Agent,
          status: 204,
        });
      break;
    }
    case 'configuration-deletion-burst': {
      const admin = admins[2] as Agent;
      const deletions = ['org_topic_deletion', 'widget_form_config_deletion', 'tag_mapping_config_deletion'];
      for (let i = 0; i < 6; i++)
        add(deletions[i % 3] as string, start + i * minute, { actor: admin, status: 204 });
      break;
    }
    case 'password-reset-burst':
      for (let i = 0; i < 15; i++)
        add('agent_password_reset', start + i * 20_000, {
          target: agents[i % 10] as Agent,
          user: undefined,
          status: 202,
        });
      break;
    case 'credential-created':
      add('oauth_config_creation', start, { actor: admins[3] as Agent, status: 201 });
      break;
  }
  return hits;
}

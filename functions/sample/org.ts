import { Random } from './random.js';

export interface Agent {
  id: string;
  email: string;
  name: string;
  admin: boolean;
  ips: string[];
}

/** The fictional organisation behind the sample feed: agents, their usual IPs, a few hostile IPs. */
export interface SampleOrg {
  orgId: string;
  host: string;
  agents: Agent[];
  botIds: string[];
  hostileIps: string[];
  customerIps: string[];
}

const FIRST = [
  'anna',
  'piotr',
  'maria',
  'jan',
  'ola',
  'tomek',
  'kasia',
  'marek',
  'ewa',
  'pawel',
  'zofia',
  'adam',
];
const LAST = [
  'nowak',
  'kowalski',
  'wisniewska',
  'wojcik',
  'kaminska',
  'lewandowski',
  'zielinska',
  'szymanski',
];

export function sampleOrg(seed: string, agents = 28): SampleOrg {
  const r = new Random(seed, 'org');
  const ip4 = () =>
    `${r.pick([31, 46, 78, 83, 89, 91, 109, 176, 188, 212])}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
  const ip6 = () =>
    `2a02:${r.int(0xffff).toString(16)}:${r.int(0xffff).toString(16)}:0:0:0:0:${(1 + r.int(0xfffe)).toString(16)}`;
  const list: Agent[] = [];
  for (let i = 0; i < agents; i++) {
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    const ips = [ip4()];
    if (r.chance(0.5)) ips.push(ip4());
    if (r.chance(0.2)) ips.push(ip6());
    list.push({
      id: r.uuid(),
      email: `${first}.${last}${i}@acme.example`,
      name: `${first} ${last}`,
      admin: i < 4,
      ips,
    });
  }
  return {
    orgId: r.uuid(),
    host: 'acme.closer.app',
    agents: list,
    botIds: [r.uuid(), r.uuid()],
    hostileIps: ['185.220.101.7', '45.155.205.233', '2001:db8:0:0:0:0:dead:beef'],
    customerIps: Array.from({ length: 60 }, ip4),
  };
}

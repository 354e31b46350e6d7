/**
 * The benchmark's data: what an opportunity create sends, and how the seed rows are generated in SQL.
 * Values respect the sales app's dictionaries, rules and workflows, so every API create is accepted;
 * seeded rows are spread over all stages (as if they had moved through the workflows) and respect the
 * rules (won → probability 100, lost → loss reason, negotiation/contract_signed → expected close date).
 */

export const STAGES = [
  'initial_contact',
  'needs_confirmed',
  'proposal',
  'quotation',
  'intent',
  'negotiation',
  'contract_signed',
  'won',
  'lost',
];
const TYPES = ['project', 'small_deal'];
const SALES_STATUS = ['initial_contact', 'executing', 'on_hold', 'commercial', 'negotiating'];
const PRIORITIES = ['high', 'medium', 'low'];
const SOURCES = [
  'launch_event',
  'seminar',
  'advertising',
  'promotion',
  'campaign',
  'online_marketing',
  'agent',
  'partner',
  'referral',
  'repeat_sale',
];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];

const isoDate = (daysFromToday: number) => new Date(Date.now() + daysFromToday * 86_400_000).toISOString().slice(0, 10);

/**
 * The body of one POST /api/data/opportunity. No stage: the sales workflows own it, and a new
 * opportunity starts in their initial state (initial_contact), which the engine fills in.
 */
export function opportunityBody(n: number, accounts: readonly string[]): Record<string, unknown> {
  return {
    title: `Bench opportunity ${n} – ${pick(['ERP rollout', 'CRM upgrade', 'Data platform', 'Support renewal', 'Hardware refresh'])}`,
    account: pick(accounts),
    opportunity_type: pick(TYPES),
    sales_status: pick(SALES_STATUS),
    priority: pick(PRIORITIES),
    source: pick(SOURCES),
    amount: Math.round(Math.random() * 100_000_000) / 100,
    probability: Math.floor(Math.random() * 101),
    expected_close_date: isoDate(Math.floor(Math.random() * 365) - 60),
    description: 'Created by the benchmark: a customer project with a few stakeholders and a budget approved for this year.',
  };
}

/** The workflows' initial state: where the engine puts a new opportunity (the raw side writes it too). */
export const INITIAL_STAGE = 'initial_contact';

/** Literal SQL array of strings (the values are constants of this file). */
const arr = (values: readonly string[]) => `(array[${values.map((v) => `'${v}'`).join(',')}])`;

/**
 * Seeded titles are Chinese, like a Chinese CRM's, so the search phase finds words as users type them:
 * a city, a company (华为 in one title of 15), a project, and a contact's name — 30 surnames × 40 × 40
 * given-name characters (every pair once in 1,600 rows), so a two-character given name (建华) is in about one title of 1,600 and a full
 * name (王建华) in one of 48,000 — then the sequence number.
 */
const CITIES = ['北京', '上海', '杭州', '深圳', '广州', '成都', '南京', '苏州', '武汉', '西安'];
const COMPANIES = [
  '华为',
  '腾讯',
  '阿里',
  '字节',
  '美团',
  '京东',
  '小米',
  '百度',
  '网易',
  '联想',
  '星辰',
  '海天',
  '恒信',
  '金达',
  '天成',
];
const PROJECTS = ['ERP 项目', 'CRM 升级', '数据平台', '运维续约', '硬件更新'];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹'.split('');
const GIVEN = '建华国明伟芳军丽强敏静磊洋勇艳杰娟涛超秀英霞平刚桂兰玉萍红梅鑫斌波宇浩凯健俊帆'.split('');
export const SEARCH_WORDS = { common: '华为', rareBigram: '建华', fullName: '王建华' };
const SEARCH_TITLE = `${arr(CITIES)}[1 + g % ${CITIES.length}] || ${arr(COMPANIES)}[1 + (g / 7) % ${COMPANIES.length}]
    || ${arr(PROJECTS)}[1 + (g / 3) % ${PROJECTS.length}] || '（' || ${arr(SURNAMES)}[1 + (g / 1600) % ${SURNAMES.length}]
    || ${arr(GIVEN)}[1 + (g * 31 % 1600) / 40] || ${arr(GIVEN)}[1 + (g * 31 % 1600) % 40] || '）' || g`;

/**
 * Inserts opportunities `from`..`to` (inclusive) with generate_series. Ids are UUIDv7-shaped (creation
 * time first, like the engine's); the auto-number is `OPP-<yyyymm>-<seq>` in one of the 24 months
 * before the current one (the API's creates number in the current month, so they never collide);
 * weighted_amount = amount × probability / 100 as the formula computes it; ~5 % of amounts are NULL.
 */
/** `$1` is the array of account ids. */
export function seedSql(from: number, to: number): string {
  return `
with g as (
  select g, (g % 24) + 1 as months_back, (g / 24) + 1 as seq,
         ${arr(STAGES)}[1 + floor(random() * ${STAGES.length})::int] as stage,
         random() as r1, random() as r2, random() as r3
  from generate_series(${from}, ${to}) g
), v as (
  select g.*,
    date_trunc('month', now() at time zone 'Asia/Shanghai') - make_interval(months => months_back::int) as month_start,
    case when r1 < 0.05 then null else round((r2 * 1000000)::numeric, 2) end as amount,
    case stage when 'won' then 100 when 'lost' then 0 else floor(r3 * 101)::int end as probability
  from g
), t as (
  select v.*, (month_start + r3 * interval '27 days') at time zone 'Asia/Shanghai' as created
  from v
)
insert into opportunity (
  id, created_at, updated_at, version, opportunity_no, title, account, opportunity_type, stage, sales_status,
  priority, source, amount, probability, weighted_amount, expected_close_date, loss_reason, description
)
select
  (lpad(to_hex((extract(epoch from created) * 1000)::bigint), 12, '0') || '7' || substr(md5(g::text || r2::text), 1, 3)
     || '8' || substr(md5(g::text || r1::text), 1, 15))::uuid,
  created, created, 1,
  'OPP-' || to_char(month_start, 'YYYYMM') || '-' || lpad(seq::text, greatest(4, length(seq::text)), '0'),
  ${SEARCH_TITLE},
  ($1::uuid[])[1 + (g % array_length($1::uuid[], 1))],
  ${arr(TYPES)}[1 + (g % ${TYPES.length})],
  stage,
  ${arr(SALES_STATUS)}[1 + (g % ${SALES_STATUS.length})],
  ${arr(PRIORITIES)}[1 + (g % ${PRIORITIES.length})],
  case when g % 3 = 0 then null else ${arr(SOURCES)}[1 + (g % ${SOURCES.length})] end,
  amount, probability, round(amount * probability / 100, 2),
  case when stage in ('initial_contact', 'needs_confirmed') and r1 > 0.5 then null
       else (created::date + (60 + floor(r2 * 240))::int) end,
  case when stage = 'lost' then 'Price' end,
  'Seeded opportunity ' || g
from t`;
}

/** meta.sequences rows matching the seeded auto-numbers, so the counters agree with the data. */
export const seedSequencesSql = `
insert into meta.sequences (entity, field, scope, value)
select 'opportunity', 'opportunity_no', substr(opportunity_no, 1, 11) || '{seq}', max(substr(opportunity_no, 12)::bigint)
from opportunity where opportunity_no like 'OPP-______-%'
group by 1, 2, 3
on conflict (entity, field, scope) do update set value = greatest(meta.sequences.value, excluded.value)`;

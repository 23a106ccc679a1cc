/**
 * `npm run deploy -- --guided`: the questions a first deploy needs, each with its default (the saved answer, else a
 * sensible one), checked as it is answered and asked again when wrong, like `sam deploy --guided`. The budget's
 * default is 100 paid jobs a day; another number, or none, has to be typed out.
 */
import { answersSchema, type DeployAnswers } from './answers';
import { DEFAULT_JOB_BUDGET_PER_DAY, ICE_REGIONS } from './deployment';

/** Asks one question; the reply as typed (empty: take the default, shown in brackets). */
export type Ask = (question: string, fallback: string) => Promise<string>;

type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

const ATTEMPTS = 3;
/** What a reply of "-" means for an optional answer. */
const NONE = '-';

async function askUntilValid<T>(ask: Ask, question: string, fallback: string, parse: (reply: string) => Parsed<T>, say: (text: string) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const parsed = parse((await ask(question, fallback)).trim() || fallback);
    if (parsed.ok) return parsed.value;
    if (attempt === ATTEMPTS) throw new Error(`${question.replace(/[:?]\s*$/, '')}: ${parsed.why}`);
    say(`  ✖ ${parsed.why}\n`);
  }
}

function field(name: 'region' | 'accountId' | 'bucket' | 'pageOrigin' | 'nextFunction', optional = false) {
  return (reply: string): Parsed<string | undefined> => {
    if (optional && reply === NONE) return { ok: true, value: undefined };
    const parsed = answersSchema.shape[name].safeParse(reply);
    return parsed.success ? { ok: true, value: parsed.data as string } : { ok: false, why: parsed.error.issues[0]?.message ?? 'not valid' };
  };
}

/** A budget reply: a positive whole number of paid jobs a day, or "none". */
export function parseBudget(reply: string): Parsed<number | 'none'> {
  if (reply.toLowerCase() === 'none') return { ok: true, value: 'none' };
  const value = Number(reply);
  return Number.isInteger(value) && value > 0 ? { ok: true, value } : { ok: false, why: 'a whole number of paid jobs a day, or none for no limit' };
}

export async function askAnswers(ask: Ask, saved: Partial<DeployAnswers>, env: NodeJS.ProcessEnv, say: (text: string) => void): Promise<DeployAnswers> {
  const region = (await askUntilValid(
    ask,
    `Region, one of ICE's (${ICE_REGIONS.join(', ')})`,
    saved.region ?? 'cn-shanghai',
    field('region'),
    say,
  )) as DeployAnswers['region'];
  const accountId = (await askUntilValid(
    ask,
    'Your account id (the AccountID of `s config`)',
    saved.accountId ?? env.YIKE_ACCOUNT_ID ?? '',
    field('accountId'),
    say,
  ))!;
  const bucket = (await askUntilValid(
    ask,
    'Bucket for uploads and records (the stack creates it, private)',
    saved.bucket ?? `yike-${accountId}-${region}`,
    field('bucket'),
    say,
  ))!;
  const pageOrigin = await askUntilValid(
    ask,
    "The page's origin, its custom domain (https://…; - for none)",
    saved.pageOrigin ?? NONE,
    field('pageOrigin', true),
    say,
  );
  say('  The daily budget caps paid jobs (SubmitYikeAIAppJob) a day: past it uploads wait and POST /jobs answers 429.\n');
  const budget = await askUntilValid(
    ask,
    'Daily budget (paid jobs a day, or none for no limit)',
    String(saved.budget ?? DEFAULT_JOB_BUDGET_PER_DAY),
    parseBudget,
    say,
  );
  if (budget === 'none') say('  No daily budget: every accepted job is paid, without a limit.\n');
  const nextFunction = await askUntilValid(
    ask,
    'A function to invoke with each finished job (- for none)',
    saved.nextFunction ?? NONE,
    field('nextFunction', true),
    say,
  );
  const eventBridge = await askUntilValid(
    ask,
    'Also deploy oss-submit-eventbridge for uploads under eventbridge-uploads/ (y/n)',
    saved.eventBridge ? 'y' : 'n',
    (reply): Parsed<boolean> => {
      if (/^(y|yes)$/i.test(reply)) return { ok: true, value: true };
      return /^(n|no)$/i.test(reply) ? { ok: true, value: false } : { ok: false, why: 'y or n' };
    },
    say,
  );
  return {
    region,
    accountId,
    bucket,
    ...(pageOrigin ? { pageOrigin } : {}),
    budget,
    ...(nextFunction ? { nextFunction } : {}),
    eventBridge,
    ...(saved.stackId ? { stackId: saved.stackId } : {}),
  };
}

/**
 * `npm start`: the whole loop on this machine in a few seconds.
 *
 *   1. starts the Ecologic sandbox and a stand-in for Zapier's hook intake on free loopback ports;
 *   2. turns on one Zap per trigger: the app's real performSubscribe against the sandbox;
 *   3. fires a realistic event of each type (plus one the Zap's filter excludes), which the sandbox
 *      delivers signed; the intake runs the app's perform on each delivery;
 *   4. redelivers one event (same webhook-id) and posts one forged delivery (wrong secret);
 *   5. prints the Zap items a partner would get, unsubscribes every Zap, and exits
 *      0 when exactly the expected items came out, 1 otherwise.
 *
 * `--verbose` also prints the sandbox's and the intake's activity (ids and event names only).
 */
import './tester-env';

import { Webhook } from 'standardwebhooks';

import app from '../../index';
import { SANDBOX_EVENTS, type EventName, type SandboxEvent } from './events';
import { generateEventBody, newWebhookSecret } from './fixtures';
import { maskEmail, maskPhone } from './format';
import { startIntake, type HookApp, type RunRecord, type ZapItem, type ZapState } from './intake';
import { sendRequest } from './sender';
import { DEMO_API_KEY, startSandbox } from './server';

/** The filter each demo Zap sets, and the event data that matches it. */
const DEMO_FILTERS: Partial<Record<EventName, { input: Record<string, string>; data: Record<string, string> }>> = {
  'RequestQuote:Create': { input: { action: 'solar_pv' }, data: { action: 'solar_pv' } },
  'RequestQuote:Label:Apply': { input: { label: 'Site visit booked' }, data: { label_id: 'lbl_4kd8' } },
  'Audit:Label:Apply': { input: { label: 'lbl_c5f7' }, data: { label_id: 'lbl_c5f7' } },
};

/** What the summary shows of each item. */
const KEY_FIELDS: Record<EventName, string[]> = {
  'RequestQuote:Create': [
    'full_name',
    'reply_email',
    'reply_phone_e164',
    'state_code',
    'postcode',
    'action_name',
    'offer_title',
    'offer_price_amount',
    'offer_price_currency',
    'quote_request_url',
  ],
  'RequestQuote:Label:Apply': ['label', 'full_name', 'reply_email', 'offer_title'],
  'Audit:Create': ['audit_id', 'full_name', 'email', 'phone_e164', 'state_code', 'postcode'],
  'Audit:Simulate': ['full_name', 'audit_type_name', 'scenario', 'estimated_annual_savings_amount', 'estimated_annual_savings_currency', 'estimated_payback_years'],
  'Audit:Assign': ['full_name', 'assignee_name', 'assignee_email'],
  'Audit:Label:Apply': ['label', 'full_name', 'email', 'state_code'],
};

function show(key: string, value: unknown): string {
  if (value === null || value === undefined) return `${key}=-`;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/email/.test(key) && !/^assignee|^applied_by|^created_by/.test(key)) return `${key}=${maskEmail(text)}`;
  if (/phone/.test(key)) return `${key}=${maskPhone(text)}`;
  return `${key}=${text}`;
}

/** Routes console output to `sink` until the returned function is called. */
function captureConsole(sink: (line: string) => void): () => void {
  const methods = ['log', 'info', 'warn', 'error'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => sink(args.map(String).join(' ').trimEnd());
  return () => methods.forEach((m, i) => (console[m] = saved[i]!));
}

/** `key=value` pairs on indented lines of at most ~100 columns. */
function wrap(parts: string[], indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const p of parts) {
    if (line && line.length + p.length + 2 > 100 - indent) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line}  ${p}` : p;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

interface DemoZap {
  def: SandboxEvent;
  zap: ZapState;
  eventId?: string;
}

async function main(): Promise<number> {
  const started = Date.now();
  const verbose = process.argv.includes('--verbose');
  const log = (prefix: string) => (verbose ? (line: string) => console.log(`  [${prefix}] ${line}`) : undefined);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);

  const sandbox = await startSandbox({
    delivery: { baseDelayMs: 50, capDelayMs: 400, maxAttempts: 6, timeoutMs: 5000 },
    ...(verbose ? { log: log('sandbox') } : {}),
  });
  process.env.ECOLOGIC_API_BASE_URL = sandbox.apiBaseUrl;
  const intake = await startIntake({ app: app as unknown as HookApp, ...(verbose ? { log: log('zapier') } : {}) });
  const problems: string[] = [];

  try {
    say('Ecologic Notification API sandbox: the whole REST-hook loop on this machine');
    say(`  sandbox   ${sandbox.apiBaseUrl}  (organisation "${sandbox.organisation.organisation_name}", state in memory only)`);
    say(`  zapier    ${intake.url}/hooks/<zap>  (stand-in for Zapier's hook intake, runs the app's perform)`);
    say('');

    // 1. Turn on one Zap per trigger.
    say('1. Turning on six Zaps (the app\'s performSubscribe -> POST /notifications)');
    const zaps: DemoZap[] = [];
    for (const def of SANDBOX_EVENTS) {
      const filter = DEMO_FILTERS[def.event];
      const zap = intake.createZap(def.triggerKey, { authData: { api_key: DEMO_API_KEY }, inputData: filter?.input ?? {} });
      const sub = await intake.turnOn(zap.id);
      const filterText = filter ? Object.entries(filter.input).map(([k, v]) => `${k}=${v}`).join(' ') : 'no filter';
      say(`   ${def.label.padEnd(28)} ${String(sub['id']).padEnd(15)} ${sub['secret'] ? 'signed' : 'UNSIGNED'}  ${filterText}`);
      zaps.push({ def, zap });
    }

    // 2. Fire one event of each type, and one the filter excludes.
    say('');
    say('2. Firing one event of each type (POST /sandbox/events); the sandbox signs and delivers them');
    for (const z of zaps) {
      const fired = sandbox.fire(z.def.event, { data: DEMO_FILTERS[z.def.event]?.data ?? {} });
      z.eventId = fired.event_ids[0];
      if (fired.deliveries !== 1) problems.push(`${z.def.event}: expected 1 delivery, queued ${fired.deliveries}`);
    }
    const excluded = sandbox.fire('RequestQuote:Create', { data: { action: 'battery' } });
    say(`   ${zaps.length} events delivered; 1 RequestQuote:Create with action=battery not sent (the Zap filters solar_pv): ${excluded.deliveries} deliveries`);
    if (excluded.deliveries !== 0) problems.push('the filtered-out event was delivered');
    await sandbox.settled(15_000);
    await intake.settled();

    // 3. A redelivery with the same webhook-id, and a forged delivery.
    const quote = zaps.find((z) => z.def.event === 'RequestQuote:Create')!;
    const subId = String(quote.zap.subscribeData?.['id']);
    sandbox.redeliver(subId, quote.eventId!);
    say('');
    say('3. Redelivering the quote request (same webhook-id, fresh signature) and posting one forged delivery');
    // The app logs why it rejects a delivery (never the payload); show that as the app's log.
    const restore = captureConsole((line) => say(`   app log: ${line}`));
    const forgedBody = JSON.stringify(generateEventBody('RequestQuote:Create', { data: { action: 'solar_pv' } }));
    const forgedId = (JSON.parse(forgedBody) as { event_id: string }).event_id;
    const now = new Date();
    await sendRequest(
      new URL(quote.zap.targetUrl),
      {
        'Content-Type': 'application/json',
        'webhook-id': forgedId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(newWebhookSecret()).sign(forgedId, now, forgedBody),
      },
      forgedBody,
      5000,
    );
    await sandbox.settled(15_000);
    await intake.settled();
    restore();

    // 4. Summary.
    say('');
    say('4. What the partner\'s Zaps received');
    const rows: string[][] = [['Trigger', 'Event id', 'Result']];
    const details = new Map<number, string>();
    for (const z of zaps) {
      for (const run of z.zap.runs) {
        const item = run.outcome === 'items' ? z.zap.items.find((i) => i['id'] === run.webhookId) : undefined;
        rows.push([z.def.label, run.webhookId ?? '-', describe(run, item, z.eventId)]);
        if (item) details.set(rows.length - 1, wrap(KEY_FIELDS[z.def.event].map((k) => show(k, item[k])), 4));
      }
    }
    say(
      table(rows)
        .split('\n')
        .map((line, i) => (i >= 2 && details.has(i - 1) ? `${line}\n${details.get(i - 1)}` : line))
        .join('\n'),
    );

    // Expectations: one item per Zap (its event), one duplicate and one forgery suppressed.
    for (const z of zaps) {
      const items = z.zap.items;
      if (items.length !== 1 || items[0]?.['id'] !== z.eventId) {
        problems.push(`${z.def.triggerKey}: expected exactly its event as one item, got ${items.length}`);
      }
      const outcomes = z.zap.runs.map((r) => r.outcome).sort().join(',');
      const expected = z === quote ? 'empty,halted,items' : 'items';
      if (outcomes !== expected) problems.push(`${z.def.triggerKey}: runs ${outcomes}, expected ${expected}`);
    }

    // 5. Turn everything off.
    say('');
    for (const z of zaps) await intake.turnOff(z.zap.id);
    const left = sandbox.subscriptions().length;
    say(`5. Turned the Zaps off (performUnsubscribe -> DELETE /notifications/{id}): ${left} subscriptions left`);
    if (left !== 0) problems.push(`${left} subscriptions left after unsubscribing`);

    const s = sandbox.stats();
    say(`   deliveries: ${s.enqueued} queued, ${s.attempts} attempts, ${s.delivered} delivered, ${s.gaveUp} gave up`);
  } catch (err) {
    problems.push(`the demo failed: ${err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err)}`);
  } finally {
    await intake.close();
    await sandbox.close();
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length > 0) {
    say('');
    say(`FAILED after ${seconds} s:`);
    for (const p of problems) say(`  - ${p}`);
    return 1;
  }
  say(`   OK: 6 Zap items, 1 duplicate and 1 forgery suppressed, in ${seconds} s`);
  say('');
  say('Next: `npm run sandbox` keeps the sandbox running for `zapier-platform invoke`.');
  return 0;
}

function describe(run: RunRecord, item: ZapItem | undefined, expectedId: string | undefined): string {
  switch (run.outcome) {
    case 'items':
      return item && item['id'] === expectedId ? 'Zap item' : 'Zap item (unexpected)';
    case 'empty':
      return 'suppressed: duplicate';
    case 'halted':
      return 'suppressed: forged (halted)';
    case 'error':
      return `error: ${run.reason ?? ''}`;
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
      // Everything is closed; this only guards against a handle left open by a dependency.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.name : 'error');
      process.exit(1);
    },
  );
}

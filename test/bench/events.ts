/**
 * Event latency: from a placement change to its arrival at subscribers (graphql-ws) and at a
 * webhook receiver, at fixed change rates and subscriber counts, on the stack as deployed
 * (stack-start.ts: the four subgraphs and the gateway each their own process, on the embedded
 * PostgreSQL server, seeded once into `.data/bench-<N>-postgres/`). The partner side runs in a
 * load process of its own (events-load.ts): writers make changes open-loop at the target rate at
 * plaatsing (timed from each mutation's answer), subscribers and the webhook receiver record
 * arrival times. Every subscriber's selection reaches all four subgraphs; all subscribers are one
 * organisation's (one authorization context, so they share each batch's resolution), and every
 * delivery is authorised and audited on its own.
 *
 *   npm run bench:events                                    # rates 1, 10, 50 /s × 10 and 100 subscribers, 10 s each
 *   BENCH_SECONDS=30 BENCH_RATES=50 BENCH_SUBSCRIBERS=100 npm run bench:events
 *   BENCH_CPU_PROF=.data/profiles npm run bench:events      # plus a V8 CPU profile of the gateway process
 *
 * Besides latency it reports, per scenario, the changes made per second, deliveries against those
 * expected, the CPU milliseconds per change of each process (from /proc, robust on a busy
 * machine) and the load average. EVENT_POLL_INTERVAL_MS sets the gateway's feed poll as in
 * production; BENCH_PATIENTS the seed's size (2000), BENCH_PORT the first port (4600: gateway,
 * subgraphs +1…+4, PostgreSQL +40). Prints one JSON line per scenario and a Markdown table.
 */
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../scripts/processes.js';
import type { ControlMessage, EventsLoadJob, LoadMessage, ScenarioResult } from './events-load.js';
import { benchRuntime, cpuMs, startStack, tree } from './stack-start.js';

const list = (value: string | undefined, fallback: number[]) => (value ? value.split(',').map(Number) : fallback);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATES = list(process.env.BENCH_RATES, [1, 10, 50]);
const SUBSCRIBER_COUNTS = list(process.env.BENCH_SUBSCRIBERS, [10, 100]);
const POLL_MS = Number(process.env.EVENT_POLL_INTERVAL_MS ?? 250);
const DRAIN_MS = Number(process.env.BENCH_DRAIN_MS ?? 60_000);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 2000);
const PORT = Number(process.env.BENCH_PORT ?? 4600);
const PROFILE = process.env.BENCH_CPU_PROF;

const scenarios = SUBSCRIBER_COUNTS.flatMap((subscribers) => RATES.map((rate) => ({ subscribers, rate })));
if (PROFILE) mkdirSync(PROFILE, { recursive: true });
const stack = await startStack({
  engine: 'postgres',
  patients: PATIENTS,
  basePort: PORT,
  gatewayEnv: { EVENT_POLL_INTERVAL_MS: String(POLL_MS), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  ...(PROFILE ? { gatewayNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] } : {}),
});
const rows: (ScenarioResult & { cpuMsPerChange: Record<string, number>; loadAverage: string })[] = [];
try {
  const job: EventsLoadJob = {
    gatewayUrl: stack.gatewayUrl,
    plaatsingUrl: stack.urls.plaatsing!,
    seconds: SECONDS,
    drainMs: DRAIN_MS,
    scenarios,
  };
  const load = fork(join(repositoryRoot, 'test/bench/events-load.ts'), [JSON.stringify(job)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const measured = [...stack.measured, { name: 'load', pids: () => tree(load.pid!) }];
  const messages: LoadMessage[] = [];
  let wake: (() => void) | null = null;
  load.on('message', (message) => {
    messages.push(message as LoadMessage);
    wake?.();
  });
  load.on('exit', (code) => {
    messages.push({ type: 'failed', message: `the load process exited (${code})` });
    wake?.();
  });
  const receive = async <T extends LoadMessage['type']>(type: T): Promise<Extract<LoadMessage, { type: T }>> => {
    while (messages.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const message = messages.shift()!;
    if (message.type === 'failed') throw new Error(message.message);
    if (message.type !== type) throw new Error(`expected ${type} from the load process, got ${message.type}`);
    return message as Extract<LoadMessage, { type: T }>;
  };
  const control = (message: ControlMessage) => load.send(message);

  await receive('ready');
  for (const { subscribers, rate } of scenarios) {
    control({ type: 'scenario', subscribers, rate });
    await receive('measuring');
    const before = measured.map((m) => cpuMs(m.pids()));
    const { result } = await receive('result');
    const cpuMsPerChange = Object.fromEntries(
      measured.map((m, i) => [m.name, Number(((cpuMs(m.pids()) - before[i]!) / Math.max(1, result.changes)).toFixed(1))]),
    );
    const row = { ...result, cpuMsPerChange, loadAverage: loadavg()[0]!.toFixed(1) };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  control({ type: 'close' });
  await new Promise((resolve) => load.once('exit', resolve));
} finally {
  if (PROFILE) {
    // The profile is written as the gateway exits, after its shutdown checkpoint (which checks every
    // record written since the last one): given the time for that, not the usual ten seconds.
    const gateway = stack.processes.find((p) => p.name === 'gateway')!.child;
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    process.kill(-gateway.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 120_000))]);
  }
  await stack.stop();
}

console.log(
  `\n${benchRuntime()}, ${availableParallelism()} cores, poll ${POLL_MS} ms, ${SECONDS} s per scenario; latency in ms from a change's commit (mutation answered) to its arrival; CPU ms per change (gateway · subgraphs · PostgreSQL server)\n`,
);
console.log(
  '| subscribers | changes/s (target → made) | subscriber p50 | p95 | p99 | delivered | webhook p50 | p95 | p99 | delivered | CPU ms/change | load avg |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cpu = r.cpuMsPerChange;
  const subgraphs = ['indicatiestelling', 'plaatsing', 'forensisch-cv', 'kwaliteit'].reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
  console.log(
    `| ${r.subscribers} | ${r.targetRate} → ${r.achievedRate}${r.writeErrors ? ` (${r.writeErrors} refused)` : ''} | ${r.subscriber.p50} | ${r.subscriber.p95} | ${r.subscriber.p99} | ${r.subscriber.delivered}/${r.subscriber.expected} | ${r.webhook.p50} | ${r.webhook.p95} | ${r.webhook.p99} | ${r.webhook.delivered}/${r.webhook.expected} | ${cpu.gateway} · ${subgraphs.toFixed(1)} · ${cpu['postgres server'] ?? '–'} | ${r.loadAverage} |`,
  );
}
process.exit(0);

import { setFlagsFromString } from 'node:v8';

/**
 * Under load V8 lets a process's old generation grow to up to four times what is live before it
 * collects it again: the gateway, ~60 MiB live, held ~230 MiB of old space (~360 MiB resident)
 * serving the whole-trajectory query at 32 connections. Growing it by half instead keeps it near
 * 1.5× what is live (~200 MiB resident) at about the same CPU per request (README, Benchmark).
 * It caps nothing (unlike --max-old-space-size), so it cannot cause an out-of-memory error: it
 * only collects sooner. A process started with its own `--heap-growing-percent` keeps that.
 */
export function limitHeapGrowth(percent = 50): void {
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

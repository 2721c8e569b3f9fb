import { describe, expect, it } from 'vitest';
import { startInOrder, type Component } from '../src/lifecycle.js';

/** Components that write what happens to them into one journal. */
function components(journal: string[], failing: { start?: string; stop?: string } = {}): Component[] {
  return ['tracing', 'audit log', 'apollo', 'http'].map((name) => ({
    name,
    start: async () => {
      if (failing.start === name) throw new Error(`${name} cannot start`);
      journal.push(`start ${name}`);
    },
    stop: async () => {
      journal.push(`stop ${name}`);
      if (failing.stop === name) throw new Error(`${name} cannot stop`);
    },
  }));
}

describe('the gateway lifecycle', () => {
  it('starts in order and stops in reverse order, once', async () => {
    const journal: string[] = [];
    const stop = await startInOrder(components(journal));
    await Promise.all([stop(), stop()]);
    await stop();
    expect(journal).toEqual(['start tracing', 'start audit log', 'start apollo', 'start http', 'stop http', 'stop apollo', 'stop audit log', 'stop tracing']);
  });

  it('stops what started, in reverse, when a later component fails to start, and reports the start failure', async () => {
    const journal: string[] = [];
    await expect(startInOrder(components(journal, { start: 'apollo', stop: 'audit log' }))).rejects.toThrow('apollo cannot start');
    expect(journal).toEqual(['start tracing', 'start audit log', 'stop audit log', 'stop tracing']);
  });

  it('stops the others when one fails to stop, then reports that failure', async () => {
    const journal: string[] = [];
    const stop = await startInOrder(components(journal, { stop: 'apollo' }));
    await expect(stop()).rejects.toThrow('apollo cannot stop');
    expect(journal.slice(4)).toEqual(['stop http', 'stop apollo', 'stop audit log', 'stop tracing']);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The README's folder map is the newcomer's way in: for the gateway it lists each folder of
 * gateway/src with its one concern, and exactly those folders, so a folder added or removed fails here.
 */
const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe("the README's folder map", () => {
  it('describes every folder of gateway/src in one row, and no folder that does not exist', () => {
    const folders = readdirSync(new URL('gateway/src/', root), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const rows = [...readme.matchAll(/^\| `gateway\/src\/([^`/]+)` \| (.+) \|$/gm)].map(([, folder, concern]) => ({
      folder: folder!,
      concern: concern!.trim(),
    }));
    expect(rows.map((row) => row.folder).sort()).toEqual(folders);
    for (const { folder, concern } of rows) expect(concern.length, `the concern of gateway/src/${folder}`).toBeGreaterThan(10);
  });

  it('names every file at the top of gateway/src in the row for gateway/src', () => {
    const row = /^\| `gateway\/src` \| (.+) \|$/m.exec(readme)?.[1] ?? '';
    const files = readdirSync(new URL('gateway/src/', root), { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
    for (const file of files) expect(row, file).toContain(`\`${file}\``);
  });
});

// The tuning table as a JSON file the user names (seqgpu/node's `tuneTable` option). Only seqgpu/node
// imports this file, so the browser bundle never meets node:fs.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TuneStore, TuneTable } from './tune-table';

/**
 * A tuning table kept in the JSON file at `path`: a missing file is an empty table; a file that is
 * not JSON makes load() reject with a message naming the file (compile then warns and uses the
 * rule). save() writes a temporary file beside it and renames it over, so a reader never sees half.
 */
export function fileTuneStore(path: string): TuneStore {
  const file = resolve(path);
  // Each save its own temporary file: two saves under way at once must not write into one.
  let saves = 0;
  return {
    name: file,
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return null;
        throw e;
      }
      try {
        return JSON.parse(text) as TuneTable;
      } catch (e) {
        throw new Error(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
    },
    async save(table) {
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${++saves}.tmp`;
      await writeFile(tmp, `${JSON.stringify(table, null, 1)}\n`);
      await rename(tmp, file);
    },
  };
}

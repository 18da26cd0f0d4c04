// Runs the examples' main() (bench/examples/main.ts) in this process, with console.log and
// console.error captured: faster than spawning npm, and the exit status comes back as a number.
import { vi } from 'vitest';

export async function exampleInProcess(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { main } = await import('../bench/examples/main');
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    return { status: await main(args), stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

// A second Node process for test/tune.test.ts: compiles the tuning checks' small graph with the table
// file named by SEQGPU_TUNE_TABLE (no timing asked for) and prints its steps and tuning counts.
import { Runtime } from '../src/node';
import { smallGraph } from './tune-checks';

export async function main(): Promise<number> {
  const rt = await Runtime.create({ tuneTable: process.env.SEQGPU_TUNE_TABLE });
  try {
    const { graph, feeds } = smallGraph();
    const exe = await rt.compile(graph);
    await exe.run(feeds);
    console.log(JSON.stringify({ steps: exe.steps, stats: rt.tuneStats }));
    return 0;
  } finally {
    rt.destroy();
  }
}

// The recurrent stacks in Node: the dispatch budget (L·(T+1) per step, 2L persistent, one submit),
// the variant choice, and bad input: typed errors naming the op and the shapes, before any dispatch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Graph, LimitError, Runtime, ShapeError } from '../src/node';
import { planRecurrence, type RnnVariant } from '../src/kernels/rnn';
import { buildRnn, rnnDispatches, type RnnSpec } from './cases-rnn';

let gpu: Runtime;

/** WebGPU's default limits, as planRecurrence reads them. */
const LIMITS = {
  maxComputeWorkgroupsPerDimension: 65535, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxStorageBuffersPerShaderStage: 8,
};
beforeAll(async () => {
  gpu = await Runtime.create();
});
afterAll(() => gpu?.destroy());

async function stats(s: RnnSpec, variant?: RnnVariant) {
  const { graph, feeds } = buildRnn(s);
  const family = s.cell.startsWith('rnn') ? 'rnn' : s.cell;
  const exe = await gpu.compile(graph, variant ? { variants: { [family]: variant } } : {});
  try {
    await exe.run(feeds);
    return { ...exe.stats, steps: exe.steps };
  } finally {
    exe.destroy();
  }
}

describe('dispatch budget', () => {
  const T = 16, L = 2;
  for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
    const s: RnnSpec = { cell, T, B: 2, I: 8, H: 16, layers: L, bidirectional: true, constants: true };
    it(`${cell}: bidirectional, ${L} layers, T ${T}, constant weights: L(T+1) per step or tiled, 2L persistent, one submit`, async () => {
      for (const v of ['step', 'tiled', 'tiled-vec4'] as const) {
        const step = await stats(s, v);
        expect(step.dispatches, step.steps.join('\n')).toBe(L * (T + 1));
        expect(step.submits).toBe(1);
        expect(step.steps.filter((x) => x.includes('input projection'))).toHaveLength(L);
        expect(step.steps.filter((x) => x.includes(`(${v} `))).toHaveLength(L * T);
      }
      const persistent = await stats(s, 'persistent');
      expect(persistent.dispatches, persistent.steps.join('\n')).toBe(2 * L);
      expect(persistent.submits).toBe(1);
    });
  }
  it('fed weights of a bidirectional layer: one GEMM per direction, the recurrence still shared', async () => {
    const s: RnnSpec = { cell: 'lstm', T: 5, B: 1, I: 4, H: 8, layers: 2, bidirectional: true, h0: true, c0: true };
    const r = await stats(s, 'step');
    expect(r.dispatches).toBe(rnnDispatches(s, 'step'));
    expect(r.dispatches).toBe(L * (5 + 2));
    expect(r.submits).toBe(1);
  });
  it('the engine picks persistent for one row of small H, step for one row of large H, and tiled for a batch', async () => {
    const small = await stats({ cell: 'lstm', T: 8, B: 1, I: 4, H: 64 });
    expect(small.dispatches).toBe(2);
    expect(small.steps[1]).toMatch(/all 8 steps .*persistent/);
    const large = await stats({ cell: 'gru', T: 8, B: 1, I: 4, H: 130 });
    expect(large.dispatches).toBe(9);
    expect(large.steps[1]).toMatch(/step 0 .*\(step /);
    const batch = await stats({ cell: 'rnn_tanh', T: 8, B: 3, I: 4, H: 16 });
    expect(batch.dispatches).toBe(9);
    expect(batch.steps[1]).toMatch(/step 0 .*\(tiled-vec4 BT3xUT1xU16xR1\)/);
    const odd = await stats({ cell: 'lstm', T: 3, B: 2, I: 4, H: 5 });
    expect(odd.steps[1]).toMatch(/step 0 .*\(tiled BT2xUT1xU8xR1\)/);
  });
});

describe('bad input', () => {
  /** Layer-0 parameters of a stack with `gates` gates, as fresh graph inputs. */
  const p = (g: Graph, H: number, I: number, gates = 4) => {
    const k = g.inputs.size;
    return {
      weight_ih_l0: g.input(`wi${k}`, [gates * H, I]),
      weight_hh_l0: g.input(`wh${k}`, [gates * H, H]),
      bias_ih_l0: g.input(`bi${k}`, [gates * H]),
      bias_hh_l0: g.input(`bh${k}`, [gates * H]),
    } as Record<string, ReturnType<Graph['input']>>;
  };

  it('wrong weight shapes name the op, the parameter and both shapes', () => {
    const g = new Graph();
    const params = p(g, 5, 3);
    params.weight_hh_l0 = g.input('bad', [20, 4]);
    expect(() => g.lstm(g.input('x', [7, 2, 3]), params, { hiddenSize: 5 })).toThrow(ShapeError);
    expect(() => g.lstm(g.input('x2', [7, 2, 3]), params, { hiddenSize: 5 })).toThrow(/lstm: .*weight_hh_l0 is \[20, 4\], expected \[20, 5\]/);
    const q = p(g, 5, 3, 3);
    q.weight_ih_l0 = g.input('bad2', [15, 4]);
    expect(() => g.gru(g.input('x3', [7, 2, 3]), q, { hiddenSize: 5 })).toThrow(/gru: .*weight_ih_l0 is \[15, 4\], expected \[15, 3\]/);
  });

  it('missing torch names are listed, for every layer and direction', () => {
    const g = new Graph();
    const params = p(g, 4, 3, 1);
    expect(() => g.rnn(g.input('x', [5, 1, 3]), params, { hiddenSize: 4, numLayers: 2, bidirectional: true })).toThrow(
      /rnn: parameters for 2 layer\(s\), 2 direction\(s\): missing weight_ih_l0_reverse, weight_hh_l0_reverse, bias_ih_l0_reverse, bias_hh_l0_reverse, weight_ih_l1, .*bias_hh_l1_reverse/,
    );
  });

  it('a missing bias is an error unless bias: false', () => {
    const g = new Graph();
    const x = g.input('x', [5, 1, 3]);
    const params = { weight_ih_l0: g.input('wi', [16, 3]), weight_hh_l0: g.input('wh', [16, 4]) };
    expect(() => g.lstm(x, params, { hiddenSize: 4 })).toThrow(/lstm: .*missing bias_ih_l0, bias_hh_l0 \(pass bias: false/);
    expect(() => g.lstm(x, params, { hiddenSize: 4, bias: false })).not.toThrow();
  });

  it('a hiddenSize that does not match the weights', () => {
    const g = new Graph();
    expect(() => g.lstm(g.input('x', [5, 2, 3]), p(g, 8, 3), { hiddenSize: 5 })).toThrow(
      /lstm: hiddenSize 5, input size 3, 4 gate\(s\): weight_ih_l0 is \[32, 3\], expected \[20, 3\]; weight_hh_l0 is \[32, 8\], expected \[20, 5\]/,
    );
  });

  it('h0 and c0 of the wrong shape, and c0 on a GRU', () => {
    const g = new Graph();
    const x = g.input('x', [2, 7, 3]);
    expect(() => g.lstm(x, p(g, 4, 3), { hiddenSize: 4, batchFirst: true, h0: g.input('h0', [1, 2, 4]), c0: g.input('c0', [2, 7, 4]) })).toThrow(
      /lstm: c0 is \[2, 7, 4\], expected \[D \* numLayers, B, H\] = \[1, 2, 4\]/,
    );
    expect(() => g.gru(x, p(g, 4, 3, 3), { hiddenSize: 4, h0: g.input('h0b', [1, 4, 2]) })).toThrow(
      /gru: h0 is \[1, 4, 2\], expected \[D \* numLayers, B, H\] = \[1, 7, 4\]/,
    );
    expect(() => g.gru(x, p(g, 4, 3, 3), { hiddenSize: 4, c0: g.input('c0b', [1, 7, 4]) } as never)).toThrow(/gru: c0 is for LSTM only/);
  });

  it('forcing the persistent variant where the state cannot fit one workgroup is a LimitError naming the sizes', async () => {
    const g = new Graph();
    const H = 1024, B = 16;
    const r = g.lstm(g.input('x', [3, B, 2]), p(g, H, 2), { hiddenSize: H });
    g.output('y', r.output);
    await expect(gpu.compile(g, { variants: { lstm: 'persistent' } })).rejects.toThrow(LimitError);
    await expect(gpu.compile(g, { variants: { lstm: 'persistent' } })).rejects.toThrow(
      /lstm: the persistent variant keeps B\*H = 16\*1024 state values .* in workgroup memory; the device allows \d+ bytes/,
    );
    await expect(gpu.compile(g, { variants: { lstm: 'fused' } })).rejects.toThrow(/lstm: unknown variant 'fused'; the variants are step, persistent, tiled/);
  });

  it('persistent at B = 65, H = 512 passes 32 KiB of workgroup memory: a LimitError; tiled runs it', () => {
    const shape = { cell: 'lstm' as const, T: 3, B: 65, H: 512, D: 1, hasBias: true, hasH0: false, hasC0: false, wStrides: [512, 1] as [number, number] };
    const limits = { ...LIMITS, maxComputeWorkgroupStorageSize: 32768 };
    expect(() => planRecurrence(shape, { variants: { lstm: 'persistent' } }, limits)).toThrow(LimitError);
    expect(() => planRecurrence(shape, { variants: { lstm: 'persistent' } }, limits)).toThrow(
      /lstm: the persistent variant keeps B\*H = 65\*512 state values \(399360 bytes .*\) in workgroup memory; the device allows 32768 bytes/,
    );
    const tiled = planRecurrence(shape, undefined, limits);
    expect(tiled.variant).toBe('tiled-vec4');
    expect(tiled.plan(0, 0, 65, 1).grid).toEqual([8, 17, 1]);
  });

  it('batch rows spread evenly over the tiles: up to 16 rows x 4 units a thread on SwiftShader, 8 x 1 on lavapipe, 4 x 1 on a GPU', () => {
    const shape = { cell: 'lstm' as const, T: 3, B: 10, H: 64, D: 1, hasBias: true, hasH0: false, hasC0: false, wStrides: [64, 1] as [number, number] };
    const ON = { swiftshader: { emulated: true, laneGathers: true }, lavapipe: { emulated: true }, gpu: {} };
    const grid = (B: number, on: keyof typeof ON, H = 64) =>
      planRecurrence({ ...shape, B, H, wStrides: [H, 1] }, undefined, { ...LIMITS, emulated: false, ...ON[on] }).plan(0, 0, B, 1);
    expect(grid(10, 'swiftshader').variant).toBe('tiled-vec4 BT10xUT4xU4xR1');
    expect(grid(10, 'lavapipe').variant).toBe('tiled-vec4 BT5xUT1xU32xR1');
    expect(grid(10, 'gpu').variant).toBe('tiled-vec4 BT4xUT1xU64xR1');
    expect(grid(64, 'swiftshader').grid).toEqual([4, 4, 1]);
    expect(grid(64, 'lavapipe').grid).toEqual([2, 8, 1]);
    expect(grid(65, 'swiftshader').variant).toBe('tiled-vec4 BT13xUT4xU4xR1');
    expect(grid(65, 'swiftshader').grid).toEqual([4, 5, 1]);
    expect(grid(65, 'lavapipe').variant).toBe('tiled-vec4 BT8xUT1xU32xR1');
    // Few units: the tile narrows rather than leave its columns empty (H = 5: two units a thread).
    expect(grid(10, 'swiftshader', 5).variant).toBe('tiled BT10xUT2xU4xR1');
  });

  it('at B = 1: persistent for H <= 64, except on SwiftShader, which steps with 8 units a workgroup; step past H = 64', () => {
    const ON = { swiftshader: { emulated: true, laneGathers: true }, lavapipe: { emulated: true }, gpu: {} };
    const plan = (H: number, on: keyof typeof ON) =>
      planRecurrence(
        { cell: 'gru', T: 3, B: 1, H, D: 1, hasBias: true, hasH0: false, hasC0: false, wStrides: [H, 1] },
        undefined,
        { ...LIMITS, emulated: false, ...ON[on] },
      ).plan(0, 0, 1, 1);
    expect(plan(64, 'swiftshader').variant).toBe('step KL1xU8');
    expect(plan(64, 'swiftshader').grid).toEqual([8, 1, 1]);
    expect(plan(5, 'swiftshader').variant).toBe('step KL1xU8');
    expect(plan(64, 'lavapipe').variant).toBe('persistent KL1xU64');
    expect(plan(64, 'gpu').variant).toMatch(/^persistent /);
    expect(plan(256, 'swiftshader').variant).toBe('step KL1xU8');
    expect(plan(256, 'lavapipe').variant).toBe('step KL1xU64');
    expect(plan(256, 'gpu').variant).toMatch(/^step KL\d+xU8$/);
  });

  it('a bidirectional layer takes a dispatch per direction on SwiftShader (ONE_DIR), one for both elsewhere; forcing chooses', () => {
    const ON = { swiftshader: { emulated: true, laneGathers: true }, lavapipe: { emulated: true }, gpu: {} };
    const shape = { cell: 'gru' as const, T: 3, B: 8, H: 64, D: 2, hasBias: true, hasH0: true, hasC0: false, wStrides: [64, 1] as [number, number] };
    const plan = (on: keyof typeof ON, over?: Parameters<typeof planRecurrence>[1], s = shape) =>
      planRecurrence(s, over, { ...LIMITS, emulated: false, ...ON[on] });
    const sw = plan('swiftshader');
    expect(sw.split).toBe(true);
    expect(sw.constants.ONE_DIR).toBe(true);
    expect(sw.plan(0, 0, 8, 1).grid).toEqual([4, 1, 1]);
    expect(sw.plan(2, 1, 8, 1, 1).uniforms).toMatchObject({ step: 2, dir0: 1, stateBase: 2 * 8 * 64 });
    for (const on of ['lavapipe', 'gpu'] as const) {
      const r = plan(on);
      expect([r.split, r.constants.ONE_DIR, r.plan(0, 0, 8, 1).grid[2]]).toEqual([false, false, 2]);
    }
    // One direction: ONE_DIR always (whh0 is its W_hh), one dispatch.
    const one = plan('gpu', undefined, { ...shape, D: 1 });
    expect([one.split, one.constants.ONE_DIR]).toEqual([false, true]);
    // Forced either way, for each variant that steps; B = 1 steps on SwiftShader.
    expect(plan('gpu', { constants: { gru: { ONE_DIR: true } } }).split).toBe(true);
    expect(plan('swiftshader', { constants: { gru: { ONE_DIR: false } } }).split).toBe(false);
    expect(plan('swiftshader', undefined, { ...shape, B: 1 }).variant).toBe('step');
    expect(plan('swiftshader', undefined, { ...shape, B: 1 }).split).toBe(true);
    // Persistent runs both directions in one dispatch: not split, and forcing a split is a ShapeError.
    expect(plan('swiftshader', { variants: { gru: 'persistent' } }).split).toBe(false);
    expect(() => plan('gpu', { variants: { gru: 'persistent' }, constants: { gru: { ONE_DIR: true } } })).toThrow(ShapeError);
    expect(() => plan('gpu', { variants: { gru: 'persistent' }, constants: { gru: { ONE_DIR: true } } })).toThrow(
      /gru: the persistent variant runs both directions in one dispatch, so ONE_DIR cannot split them \(D 2\)/,
    );
    expect(() => plan('gpu', { constants: { gru: { ONE_DIR: 1 } } })).toThrow(/gru: ONE_DIR is true \(a dispatch per direction\) or false \(one for both\); got 1/);
  });

  it('a tile the shader or the device cannot take is a LimitError naming it', () => {
    const shape = { cell: 'gru' as const, T: 3, B: 8, H: 64, D: 2, hasBias: true, hasH0: true, hasC0: false, wStrides: [64, 1] as [number, number] };
    const tiled = (c: Record<string, number>) => () => planRecurrence(shape, { variants: { gru: 'tiled-vec4' }, constants: { gru: c } }, LIMITS);
    expect(tiled({ BT: 17 })).toThrow(/gru: tiled BT 17 rows per thread; the shader's register tile holds 1 to 16/);
    expect(tiled({ BT: 0 })).toThrow(LimitError);
    expect(tiled({ UT: 3 })).toThrow(/gru: tiled UT 3 units per thread; the shader's register tile holds 1, 2, 4/);
    expect(tiled({ UT: 8 })).toThrow(LimitError);
    expect(tiled({ UNITS: 64, ROWS: 8 })).toThrow(/gru: UNITS 64 x ROWS 8 is not a workgroup the device allows \(256 invocations/);
    expect(tiled({ UNITS: 512 })).toThrow(LimitError);
    expect(tiled({ BT: 4, UNITS: 32, ROWS: 2 })().plan(0, 0, 8, 1).grid).toEqual([2, 1, 2]);
    // vec4 loads along k need H % 4 == 0 and W_hh rows contiguous: else a ShapeError, and tiled (scalar) is the choice.
    const odd = { ...shape, H: 33, wStrides: [33, 1] as [number, number] };
    expect(() => planRecurrence(odd, { variants: { gru: 'tiled-vec4' } }, LIMITS)).toThrow(/gru: variant 'tiled-vec4' needs H % 4 == 0 .* got H 33/);
    expect(planRecurrence(odd, undefined, LIMITS).variant).toBe('tiled');
    expect(planRecurrence({ ...shape, wStrides: [1, 192] }, undefined, LIMITS).variant).toBe('tiled');
  });

  it('more storage buffers than the device binds per stage is a LimitError', () => {
    const limits = { ...LIMITS, maxStorageBuffersPerShaderStage: 4 };
    const shape = { cell: 'lstm' as const, T: 4, B: 1, H: 8, D: 1, hasBias: true, hasH0: false, hasC0: false, wStrides: [8, 1] as [number, number] };
    expect(() => planRecurrence(shape, undefined, limits)).toThrow(/lstm: shaders\/rnn.wgsl:rnn_persistent binds 8 storage buffers; the device allows 4/);
    expect(planRecurrence(shape, undefined, { ...limits, maxStorageBuffersPerShaderStage: 8 }).variant).toBe('persistent');
  });
});

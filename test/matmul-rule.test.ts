// The matmul kernel's rule, without a GPU: which variant and register tile each adapter kind gets.
import { describe, expect, it } from 'vitest';
import { planMatmul } from '../src/kernels/matmul';

/** WebGPU's default limits, as planMatmul reads them. */
const LIMITS = {
  maxComputeWorkgroupsPerDimension: 65535, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256,
};
const ON = { swiftshader: { emulated: true, laneGathers: true }, lavapipe: { emulated: true }, gpu: {} };

/** The plan of [M, K] x [K, N], B stored [N, K] (a linear weight) with bT. */
function plan(M: number, K: number, N: number, on: keyof typeof ON, bT = true) {
  const b = bT ? { shape: [K, N], strides: [1, K] } : { shape: [K, N], strides: [N, 1] };
  const p = planMatmul({ a: { shape: [M, K], strides: [K, 1] }, b, hasBias: true, act: 0 }, undefined, { ...LIMITS, ...ON[on] });
  return { variant: p.variant, RM: p.constants.RM, RN: p.constants.RN, WG_NAIVE: p.constants.WG_NAIVE };
}

describe('matmul rule', () => {
  it('SwiftShader: register tiles of 32 x 16 from 128 rows, 16 x 16 below, narrower as the shapes leave them', () => {
    expect(plan(1024, 128, 512, 'swiftshader')).toEqual({ variant: 'register', RM: 32, RN: 16, WG_NAIVE: 8 });
    expect(plan(128, 64, 256, 'swiftshader', false)).toEqual({ variant: 'register', RM: 32, RN: 16, WG_NAIVE: 8 });
    expect(plan(127, 64, 256, 'swiftshader')).toEqual({ variant: 'register', RM: 16, RN: 16, WG_NAIVE: 16 });
    expect(plan(64, 128, 512, 'swiftshader')).toEqual({ variant: 'register', RM: 16, RN: 16, WG_NAIVE: 16 });
    expect(plan(8, 16, 12, 'swiftshader')).toEqual({ variant: 'register', RM: 8, RN: 8, WG_NAIVE: 16 });
    expect(plan(200, 16, 4, 'swiftshader')).toEqual({ variant: 'register', RM: 32, RN: 4, WG_NAIVE: 8 });
  });

  it('lavapipe: register tiles of 4 x 4; a GPU: tiled-vec4; unaligned shapes: tiled', () => {
    expect(plan(1024, 128, 512, 'lavapipe')).toEqual({ variant: 'register', RM: 4, RN: 4, WG_NAIVE: 64 });
    expect(plan(1024, 128, 512, 'gpu').variant).toBe('tiled-vec4');
    expect(plan(1024, 127, 512, 'swiftshader').variant).toBe('tiled');
  });
});

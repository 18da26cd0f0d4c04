// The parity checker and case types live in src/testing/parity.ts (shipped as seqgpu/testing); the
// case files and the runs import them from here.
export * from '../src/testing/parity';

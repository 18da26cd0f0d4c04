// Seeded initialisation of module parameters, as torch.nn.init, so that examples run without
// weights. It draws from one seeded generator (mulberry32), as torch draws from its global one: the
// same construction order under the same seed gives the same weights.
let initState = 0;

// While set, random initialisation gives zeros without drawing from the generator: a loader that
// assigns every parameter next need not spend seconds drawing 100M values it throws away.
let skipInit = false;

/**
 * Runs `build` with random parameter initialisation skipped (zeros, the generator untouched), for a
 * module whose every parameter is loaded right after.
 * @internal
 */
export function withoutInit<T>(build: () => T): T {
  const was = skipInit;
  skipInit = true;
  try {
    return build();
  } finally {
    skipInit = was;
  }
}

/** Seeds the generator that initialises module parameters (torch.manual_seed for module init). */
export function setInitSeed(seed: number): void {
  initState = seed >>> 0;
}

function initRandom(): number {
  initState = (initState + 0x6d2b79f5) >>> 0;
  let t = initState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** U(-bound, bound), as torch.nn.init.uniform_. */
export function initUniform(n: number, bound: number): Float32Array {
  if (skipInit) return new Float32Array(n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * initRandom() - 1) * bound;
  return out;
}

/** N(0, std²) by Box-Muller, as torch.nn.init.normal_. */
export function initNormal(n: number, std: number): Float32Array {
  if (skipInit) return new Float32Array(n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - initRandom(), v = initRandom();
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** torch.nn.init.xavier_uniform_ for a [fanOut, fanIn] weight. */
export const initXavier = (fanOut: number, fanIn: number): Float32Array =>
  initUniform(fanOut * fanIn, Math.sqrt(6 / (fanIn + fanOut)));

export const initFill = (n: number, v: number): Float32Array => new Float32Array(n).fill(v);

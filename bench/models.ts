// The models suite: whole-model throughput (LSTM classifier sequences/s, GPT decode tokens/s,
// Transformer translation sentences/s) beside the CPU reference, with each model step's time split
// into encode, submit and GPU. The models themselves (src/models/) are not in the engine yet; when
// they land, their cases go here as BenchCases of suite 'model' (flops per step, a tolerance on the
// logits, build() giving the step graph and its feeds) and are picked up by benchCases() in
// bench/cases.ts through modelCases(). Until then the suite is empty and the runner says so.
import type { BenchCase } from './cases';

/** Why there are no model rows, or null once there are. */
export const MODELS_PENDING: string | null =
  'models suite: no whole models in the engine yet (src/models/ has not landed); kernel suites only';

export function modelCases(): BenchCase[] {
  return [];
}

// Parity cases for the rnn kernels (filled in by the rnn work).
import type { ParityCase } from './parity';

export const rnnCases: ParityCase[] = [];

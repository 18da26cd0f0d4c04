// Parity cases for the norm kernels (filled in by the norm work).
import type { ParityCase } from './parity';

export const normCases: ParityCase[] = [];

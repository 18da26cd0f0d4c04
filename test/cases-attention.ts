// Parity cases for the attention kernels (filled in by the attention work).
import type { ParityCase } from './parity';

export const attentionCases: ParityCase[] = [];

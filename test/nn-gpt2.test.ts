// GPT-2 under Hugging Face names against a float64 implementation (test/nn-ref.ts): Conv1D weights
// [in, out], causal attention, GELU tanh, the tied head; a transformers-layout file with its
// attn.bias buffers through safetensors; the prefix alias and the names that are refused; torch's
// lm_head.weight, tied when it equals wte and untied when it differs.
import { describe, expect, it } from 'vitest';
import { GPT2Block, GPT2LMHeadModel, Graph, StateDictError, loadStateDict, readSafetensors, writeSafetensors } from '../src/node';
import { randn } from './parity';
import * as ref from './nn-ref';
import { closeTo, cpu, randomize, run } from './nn-util';

describe('GPT-2 under Hugging Face names', () => {
  const cfg = { vocabSize: 13, nPositions: 6, nEmbd: 8, nLayer: 2, nHead: 2 };
  const E = cfg.nEmbd;
  /** A GPT2LMHeadModel file as transformers saves it (older files also hold the attn.bias buffers). */
  function hfLayout(withBuffers: boolean): [string, number[]][] {
    const out: [string, number[]][] = [['transformer.wte.weight', [13, E]], ['transformer.wpe.weight', [6, E]]];
    for (let i = 0; i < cfg.nLayer; i++) {
      const p = `transformer.h.${i}`;
      out.push(
        [`${p}.ln_1.weight`, [E]], [`${p}.ln_1.bias`, [E]],
        ...(withBuffers ? [[`${p}.attn.bias`, [1, 1, 6, 6]], [`${p}.attn.masked_bias`, []]] as [string, number[]][] : []),
        [`${p}.attn.c_attn.weight`, [E, 3 * E]], [`${p}.attn.c_attn.bias`, [3 * E]],
        [`${p}.attn.c_proj.weight`, [E, E]], [`${p}.attn.c_proj.bias`, [E]],
        [`${p}.ln_2.weight`, [E]], [`${p}.ln_2.bias`, [E]],
        [`${p}.mlp.c_fc.weight`, [E, 4 * E]], [`${p}.mlp.c_fc.bias`, [4 * E]],
        [`${p}.mlp.c_proj.weight`, [4 * E, E]], [`${p}.mlp.c_proj.bias`, [E]],
      );
    }
    out.push(['transformer.ln_f.weight', [E]], ['transformer.ln_f.bias', [E]]);
    return out;
  }
  const hfRecord = (withBuffers: boolean) => Object.fromEntries(hfLayout(withBuffers).map(([n, shape], i) => {
    const data = randn(shape.reduce((a, b) => a * b, 1), 200 + i, 0.5);
    return [n, { shape, data: /ln_.\.weight$|ln_f\.weight$/.test(n) ? data.map((v) => 1 + v / 2) : data }];
  }));
  /** Logits [B, T, V]: embeddings, blocks, ln_f, and the head x·headᵀ (tied: head = wte). */
  function gpt2Ref(P: ref.Params, ids: number[], B: number, T: number, past = 0, head = P['transformer.wte.weight']): Float64Array {
    let x: Float64Array = new Float64Array(B * T * E);
    ids.forEach((id, n) => {
      for (let e = 0; e < E; e++) x[n * E + e] = P['transformer.wte.weight'][id * E + e] + P['transformer.wpe.weight'][(past + (n % T)) * E + e];
    });
    for (let i = 0; i < cfg.nLayer; i++) x = ref.gpt2Block(P, `transformer.h.${i}.`, x, B, T, E, cfg.nHead);
    x = ref.layerNorm(x, B * T, E, P['transformer.ln_f.weight'], P['transformer.ln_f.bias']);
    return ref.linear(x, B * T, E, head, cfg.vocabSize);
  }

  it('GPT2Block: Conv1D weights [in, out], causal attention, GELU tanh', async () => {
    const block = new GPT2Block(cfg);
    randomize(block, 6);
    const g = new Graph();
    g.output('y', block.forward(g, g.input('x', [2, 5, E])));
    const xs = randn(2 * 5 * E, 41);
    const { y } = await run(cpu, g, { x: xs });
    closeTo(y, ref.gpt2Block(ref.paramsOf(block.namedParameters()), '', xs, 2, 5, E, cfg.nHead), 1e-4);
  });
  it('GPT2LMHeadModel: a transformers-layout file with attn.bias buffers loads; logits match, head tied to wte', async () => {
    const record = hfRecord(true);
    const model = new GPT2LMHeadModel(cfg);
    expect(model.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(hfLayout(false));
    loadStateDict(model, readSafetensors(writeSafetensors(record)));
    const g = new Graph();
    const ids = g.input('ids', [2, 3], 'i32');
    g.output('logits', model.forward(g, ids));
    g.output('later', model.forward(g, ids, { pastLength: 3 }));
    const idv = [1, 12, 0, 5, 5, 7];
    const r = await run(cpu, g, { ids: new Int32Array(idv) });
    const P = Object.fromEntries(Object.entries(record).map(([n, t]) => [n, t.data]));
    closeTo(r.logits, gpt2Ref(P, idv, 2, 3), 1e-4);
    closeTo(r.later, gpt2Ref(P, idv, 2, 3, 3), 1e-4);
    expect(g.nodes.filter((n) => n.node.op === 'constant' && n.shape.join() === '13,8')).toHaveLength(1);
  });
  it('names without the transformer. prefix load; strays and doubles are refused', () => {
    const record = hfRecord(true);
    const bare = Object.fromEntries(Object.entries(record).map(([n, t]) => [n.replace(/^transformer\./, ''), t]));
    const model = new GPT2LMHeadModel(cfg);
    model.loadStateDict(bare);
    expect(model.transformer.wte.weight.data).toBe(record['transformer.wte.weight'].data);
    const err = (() => {
      try {
        model.loadStateDict({ ...record, 'lm_head.weight': record['transformer.wte.weight'], 'transformer.h.0.attn.bias2': record['transformer.h.0.attn.bias'], 'h.0.ln_1.bias': record['transformer.h.0.ln_1.bias'] });
      } catch (e) {
        return e as StateDictError;
      }
    })();
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.unexpected).toEqual(['transformer.h.0.attn.bias2']);
    expect(err!.invalid).toEqual(['h.0.ln_1.bias and transformer.h.0.ln_1.bias both name transformer.h.0.ln_1.bias']);
  });
  /** A torch GPT2LMHeadModel.state_dict() through safetensors: the transformer's tensors and lm_head.weight. */
  const torchExport = (head: Float32Array) =>
    readSafetensors(writeSafetensors({ ...hfRecord(true), 'lm_head.weight': { shape: [13, E], data: head } }));
  const logitsOf = async (model: GPT2LMHeadModel, idv: number[]) => {
    const g = new Graph();
    g.output('logits', model.forward(g, g.input('ids', [2, 3], 'i32')));
    return { graph: g, logits: (await run(cpu, g, { ids: new Int32Array(idv) })).logits };
  };
  const headConstants = (g: Graph) => g.nodes.filter((n) => n.node.op === 'constant' && n.shape.join() === '13,8').length;

  it("torch's state_dict with lm_head.weight equal to wte (a copy, as safetensors gives) loads tied: one constant for both", async () => {
    const wte = hfRecord(true)['transformer.wte.weight'].data;
    const model = new GPT2LMHeadModel(cfg);
    model.loadStateDict(torchExport(wte.slice()));
    expect(model.lmHeadWeight).toBeNull();
    expect(model.namedParameters().map(([n]) => n)).not.toContain('lm_head.weight');
    const idv = [1, 12, 0, 5, 5, 7];
    const { graph, logits } = await logitsOf(model, idv);
    expect(headConstants(graph)).toBe(1);
    const P = Object.fromEntries(Object.entries(hfRecord(true)).map(([n, t]) => [n, t.data]));
    closeTo(logits, gpt2Ref(P, idv, 2, 3), 1e-4);
  });
  it('an lm_head.weight that differs from wte loads untied: logits through it, kept by stateDict; a later load without it ties again', async () => {
    const head = randn(13 * E, 77, 0.5);
    const model = new GPT2LMHeadModel(cfg);
    model.loadStateDict(torchExport(head));
    expect(model.lmHeadWeight?.shape).toEqual([13, E]);
    const idv = [4, 0, 12, 3, 9, 1];
    const { graph, logits } = await logitsOf(model, idv);
    expect(headConstants(graph)).toBe(2);
    const P = Object.fromEntries(Object.entries(hfRecord(true)).map(([n, t]) => [n, t.data]));
    closeTo(logits, gpt2Ref(P, idv, 2, 3, 0, head), 1e-4);
    // The untied head is a parameter like the others: saved, and loaded back untied.
    const saved = readSafetensors(writeSafetensors(model.stateDict()));
    expect(Array.from(saved['lm_head.weight'].data)).toEqual(Array.from(head));
    const again = new GPT2LMHeadModel(cfg);
    again.loadStateDict(saved);
    closeTo((await logitsOf(again, idv)).logits, logits, 0);
    model.loadStateDict(hfRecord(false));
    expect(model.lmHeadWeight).toBeNull();
  });
  it('an lm_head.weight of the wrong shape is listed with the other faults, and nothing is loaded', () => {
    const model = new GPT2LMHeadModel(cfg);
    const before = model.transformer.wte.weight.data;
    const bad = { ...hfRecord(false), 'lm_head.weight': { shape: [12, E], data: new Float32Array(12 * E) } };
    delete (bad as Record<string, unknown>)['transformer.ln_f.bias'];
    expect(() => model.loadStateDict(bad)).toThrow(StateDictError);
    expect(() => model.loadStateDict(bad)).toThrow(/missing 1: transformer.ln_f.bias; wrong shape 1: lm_head.weight is \[12, 8\], expected \[13, 8\]/);
    expect(model.transformer.wte.weight.data).toBe(before);
    expect(model.lmHeadWeight).toBeNull();
    const base = new GPT2Block(cfg);
    expect(() => loadStateDict(base, { 'lm_head.weight': new Float32Array(13 * E) })).toThrow(/unexpected 1: lm_head.weight/);
  });
  it('positions past nPositions are a ShapeError; ids out of range an InputError at run', async () => {
    const model = new GPT2LMHeadModel(cfg);
    const g = new Graph();
    const ids = g.input('ids', [1, 4], 'i32');
    expect(() => model.forward(g, ids, { pastLength: 3 })).toThrow(/GPT2: positions 3..6 pass the 6 positions of wpe/);
    const h = new Graph();
    expect(() => model.forward(h, h.input('f', [1, 4]))).toThrow(/inputIds must be i32 \[B, T\]/);
    g.output('y', model.forward(g, ids));
    await expect(run(cpu, g, { ids: new Int32Array([0, 13, 2, 3]) })).rejects.toThrow(/embedding: ids \[1, 4\] hold 13 at flat index 1; valid values are 0..12/);
  });
});


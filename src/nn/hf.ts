// GPT-2 from a Hugging Face checkpoint: config.json's keys (transformers' GPT2Config, its defaults
// where a key is absent) turned into the engine's GPT2Config, each value the engine does not
// implement refused by name; and a checkpoint folder fetched from a base URL (config.json beside
// model.safetensors, or model.safetensors.index.json and its shards). File folders are read by
// seqgpu/node, which shares gpt2FromHuggingFace.
import { InputError, errorName } from '../errors';
import { GPT2LMHeadModel, type GPT2Config } from './gpt2';
import { LoadError, besideUrl, loadSafetensors, loadShardedSafetensors, openSource, parseJson, type LoadOptions, type TensorRecord } from './load';
import { StateDictError, loadStateDict, type StateDictInput } from './module';
import { withoutInit } from './init';

/** A config.json value the engine cannot honour: the key, its value and what is implemented. */
export class ConfigError extends InputError {
  /**
   * An error whose message names the key, its value and the reason.
   * @param reason what is wrong with the value, or with the file when key is ''
   */
  constructor(
    /** The config.json key ('' when the file as a whole is at fault). */
    readonly key: string,
    /** Its value as given. */
    readonly value: unknown,
    reason: string,
  ) {
    super(key ? `config.json: ${key} is ${JSON.stringify(value)}; ${reason}` : `config.json: ${reason}`);
  }
}
errorName(ConfigError, 'ConfigError');

/** Options of the GPT-2 loaders: progress and the fetch to use (16-bit weights come with the modules' own option). */
export type GPT2LoadOptions = Omit<LoadOptions, 'keep16'>;

// transformers' GPT2Config defaults, used for keys a config.json leaves out.
const DEFAULTS = { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, layer_norm_epsilon: 1e-5 };
// Both name GELU's tanh form, the one GPT2MLP applies.
const ACTIVATIONS = ['gelu_new', 'gelu_pytorch_tanh'];

/**
 * The engine's GPT2Config from a Hugging Face GPT-2 `config.json` (parsed): vocab_size,
 * n_positions, n_embd, n_layer, n_head and layer_norm_epsilon, transformers' defaults where a key
 * is absent. Keys that only matter in training (dropouts, initializer_range) are ignored. A value
 * the engine does not implement is a {@link ConfigError} naming the key and the value: a
 * model_type other than gpt2, an activation_function other than gelu_new (or gelu_pytorch_tanh,
 * the same function), n_inner other than 4·n_embd, scale_attn_weights false,
 * scale_attn_by_inverse_layer_idx or add_cross_attention true. reorder_and_upcast_attn is accepted:
 * it changes only the order of the f32 arithmetic, which the engine does in f32 anyway.
 */
export function gpt2ConfigFromHuggingFace(json: unknown): GPT2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('', json, `the config is ${JSON.stringify(json)}, not a JSON object`);
  const c = json as Record<string, unknown>;
  const has = (k: string) => c[k] !== undefined && c[k] !== null;
  const count = (k: keyof typeof DEFAULTS): number => {
    const v = has(k) ? c[k] : DEFAULTS[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new ConfigError(k, v, 'it must be a positive integer');
    return v;
  };
  // A boolean key; `implemented` is the one value the engine runs (none: either value runs).
  const flag = (k: string, implemented?: boolean, why = '') => {
    if (!has(k)) return;
    if (typeof c[k] !== 'boolean') throw new ConfigError(k, c[k], 'it must be true or false');
    if (implemented !== undefined && c[k] !== implemented) throw new ConfigError(k, c[k], why);
  };
  if (has('model_type') && c.model_type !== 'gpt2') throw new ConfigError('model_type', c.model_type, "seqgpu's GPT-2 loader reads model_type gpt2 only");
  const config: GPT2Config = {
    vocabSize: count('vocab_size'), nPositions: count('n_positions'), nEmbd: count('n_embd'), nLayer: count('n_layer'), nHead: count('n_head'),
  };
  if (config.nEmbd % config.nHead) throw new ConfigError('n_head', c.n_head ?? DEFAULTS.n_head, `n_embd ${config.nEmbd} is not a multiple of it`);
  const eps = has('layer_norm_epsilon') ? c.layer_norm_epsilon : DEFAULTS.layer_norm_epsilon;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) throw new ConfigError('layer_norm_epsilon', eps, 'it must be a positive number');
  config.layerNormEpsilon = eps;
  if (has('activation_function') && !ACTIVATIONS.includes(c.activation_function as string)) {
    throw new ConfigError('activation_function', c.activation_function, `seqgpu's GPT-2 implements ${ACTIVATIONS.join(' and ')} (GELU's tanh form)`);
  }
  if (has('n_inner') && c.n_inner !== 4 * config.nEmbd) {
    throw new ConfigError('n_inner', c.n_inner, `seqgpu's GPT-2 implements an MLP of 4 * n_embd = ${4 * config.nEmbd} (or n_inner null)`);
  }
  flag('scale_attn_weights', true, 'seqgpu scales attention scores by 1/sqrt(head dim) always');
  flag('scale_attn_by_inverse_layer_idx', false, 'seqgpu does not scale attention by the layer index');
  flag('add_cross_attention', false, "seqgpu's GPT-2 is a decoder without cross-attention");
  flag('reorder_and_upcast_attn');
  flag('tie_word_embeddings');
  return config;
}

/**
 * A GPT2LMHeadModel built from a Hugging Face config.json (parsed) and loaded with a checkpoint's
 * tensors (readSafetensors' or a loader's record): names with or without `transformer.`, Conv1D
 * weights [in, out], the `attn.bias` and `attn.masked_bias` buffers skipped. `lm_head.weight` equal
 * to `wte` is the tie (one buffer); one that differs is loaded untied. With `tie_word_embeddings`
 * false the file must hold `lm_head.weight`. Tensors that disagree with the config are one
 * StateDictError listing every missing, unexpected and misshapen name.
 */
export function gpt2FromHuggingFace(configJson: unknown, tensors: StateDictInput): GPT2LMHeadModel {
  const config = gpt2ConfigFromHuggingFace(configJson);
  // Every parameter is assigned below (or the load fails): no random draws to throw away.
  const model = withoutInit(() => new GPT2LMHeadModel(config));
  const untied = (configJson as Record<string, unknown>).tie_word_embeddings === false;
  const headMissing = untied && !Object.prototype.hasOwnProperty.call(tensors, 'lm_head.weight');
  try {
    loadStateDict(model, tensors);
  } catch (e) {
    if (e instanceof StateDictError && headMissing) throw new StateDictError([...e.missing, 'lm_head.weight'], e.unexpected, e.mismatched, e.invalid);
    throw e;
  }
  // The model is not returned, so nothing half-loaded escapes.
  if (headMissing) throw new StateDictError(['lm_head.weight'], [], [], []);
  return model;
}

/** config.json's bytes as JSON, or a ConfigError. @internal */
export function parseConfigJson(bytes: Uint8Array): unknown {
  try {
    return parseJson(bytes, 'config.json', 'source');
  } catch (e) {
    throw new ConfigError('', undefined, (e as Error).message.replace(/^load: /, ''));
  }
}

/**
 * GPT-2 from a Hugging Face checkpoint folder served at `baseUrl` (a folder URL; relative to the
 * page in a browser): `config.json`, then `model.safetensors.index.json` and its shards, or
 * `model.safetensors` where there is no index. `onProgress` counts the weights' bytes. Faults are
 * the loaders' LoadError, a ConfigError, or a StateDictError; nothing half-loaded is returned.
 */
export async function loadGPT2FromUrl(baseUrl: string | URL, opts: GPT2LoadOptions = {}): Promise<GPT2LMHeadModel> {
  const base = String(baseUrl).endsWith('/') ? String(baseUrl) : `${String(baseUrl)}/`;
  const cfgBody = await openSource(besideUrl('config.json', base), opts);
  const configJson = parseConfigJson(await cfgBody.read(() => {}));
  const f32 = { ...opts, keep16: false as const };
  let tensors: TensorRecord;
  try {
    tensors = await loadShardedSafetensors(besideUrl('model.safetensors.index.json', base), f32);
  } catch (e) {
    // No index: a single file. (An index that is there but wrong stays an error.)
    if (!(e instanceof LoadError && e.fault === 'not-found' && e.url === besideUrl('model.safetensors.index.json', base))) throw e;
    tensors = await loadSafetensors(besideUrl('model.safetensors', base), f32);
  }
  return gpt2FromHuggingFace(configJson, tensors);
}

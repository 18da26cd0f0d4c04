// seqgpu's public API (the README's API section): Runtime, Graph, and the error classes.
/**
 * seqgpu: a WebGPU compute engine for sequence models. Build a {@link Graph} of PyTorch-named ops,
 * compile it once on a {@link Runtime} (the page's WebGPU adapter, or {@link Runtime.cpu} for the
 * float64 reference) and run it many times; the nn modules and models load PyTorch weights from
 * safetensors. Every error it throws is a {@link SeqgpuError}. In Node, import the same API from
 * `seqgpu/node`, which runs on Dawn.
 *
 * @packageDocumentation
 */
export { Runtime, type RuntimeOptions, type RuntimeInfo, type EngineLimits, type DeviceLossEvent } from './runtime/runtime';
export { localStorageTuneStore, memoryTuneStore, type TuneStore, type TuneTable, type TuneChoice, type TuneAdapter } from './runtime/tune-table';
export type { TuneStats } from './runtime/tune';
export { Graph, Tensor, type DType } from './graph/graph';
export type { Executable, ExecStats, Feeds, Feed } from './graph/executable';
export { GpuOutput, type RunFeeds, type RunOptions } from './graph/io-binding';
export type { SampleOptions } from './ops/sample';
export type { CompileOptions } from './graph/executor';
export type { TimestampMode } from './graph/timer';
export type { KernelDefinition, PlanArgs, TensorInfo, UserDispatch } from './kernels/user';
export type { KernelRegistry } from './runtime/kernels';
// Types that the signatures above use, exported so that code (and the API reference) can name them.
export type { GraphLike, GraphNode, HalfDType, Node } from './graph/ir';
export type { Constants, DeviceLimits, Uniforms } from './kernels/kernel';
export type { RnnParams, RnnOptions } from './ops/rnn';
export type { AttentionOptions } from './ops/attention';
export { SeqgpuError, ShapeError, InputError, LimitError, GpuError, DeviceLostError, DestroyedError, KernelError } from './errors';
export { MATMUL_VARIANTS } from './kernels/matmul';
export { WEIGHT16_VARIANTS, type Weight16Variant } from './kernels/weight16';
export { toHalf, halfToF32 } from './graph/half';
export * from './nn/safetensors';
export {
  Module, ModuleList, loadStateDict, StateDictError,
  type Parameter, type StateDictInput, type ShapeMismatch, type OptionalEntry, type HalfBits,
} from './nn/module';
export { setInitSeed } from './nn/init';
export * from './nn/layers';
export * from './nn/attention';
export * from './nn/transformer';
export * from './nn/gpt2';
export {
  loadSafetensors, loadShardedSafetensors, LoadError,
  type WeightsSource, type LoadProgress, type LoadOptions, type LoadFault, type LoadErrorDetails, type TensorRecord, type TensorRecord16,
} from './nn/load';
export { gpt2ConfigFromHuggingFace, gpt2FromHuggingFace, loadGPT2FromUrl, ConfigError, type GPT2LoadOptions } from './nn/hf';
export { TextClassifier, ClassifierSession, type TextClassifierConfig } from './models/classifier';
export { GptDecoder, prefillGraph, stepGraph, fullGraph, type GptDecoderOptions, type GenerateOptions, type GenerateResult, type DecodeGraphOptions } from './models/gpt';
export { Seq2SeqTransformer, Translator, TokenEmbedding, type TranslatorConfig, type TranslateResult, type TranslateOptions } from './models/translator';
export { SeededRandom, argmax, pickToken, type SamplingOptions } from './models/sampling';

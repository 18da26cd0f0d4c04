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
export { Runtime, type RuntimeOptions, type RuntimeInfo, type EngineLimits } from './runtime/runtime';
export { Graph, Tensor, type DType } from './graph/graph';
export type { Executable, ExecStats, Feeds, Feed } from './graph/executable';
export type { CompileOptions } from './graph/executor';
export type { KernelDefinition, PlanArgs, TensorInfo, UserDispatch } from './kernels/user';
export type { KernelRegistry } from './runtime/kernels';
export { SeqgpuError, ShapeError, InputError, LimitError, GpuError, DeviceLostError, DestroyedError, KernelError } from './errors';
export { MATMUL_VARIANTS } from './kernels/matmul';
export * from './nn/safetensors';
export {
  Module, ModuleList, loadStateDict, StateDictError, setInitSeed,
  type Parameter, type StateDictInput, type ShapeMismatch, type OptionalEntry,
} from './nn/module';
export * from './nn/layers';
export * from './nn/attention';
export * from './nn/transformer';
export * from './nn/gpt2';
export { TextClassifier, ClassifierSession, type TextClassifierConfig } from './models/classifier';
export { GptDecoder, prefillGraph, stepGraph, fullGraph, type GptDecoderOptions, type GenerateOptions, type GenerateResult } from './models/gpt';
export { Seq2SeqTransformer, Translator, type TranslatorConfig, type TranslateResult } from './models/translator';
export { SeededRandom, argmax, pickToken, type SamplingOptions } from './models/sampling';
